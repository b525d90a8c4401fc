using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Configuration;
using RagPlatform.Lexical;

namespace RagPlatform.Core.Hosting;

/// <summary>Which host a process is: it decides which shared components the process can run at all.</summary>
public enum RagHostRole
{
    /// <summary><c>rag serve</c> and the standalone service: ingestion, worker and query in one process.</summary>
    Standalone,

    /// <summary>The distributed ingestion service.</summary>
    IngestionService,

    /// <summary>The distributed embedding worker (one of its replicas).</summary>
    EmbeddingWorker,

    /// <summary>The distributed query API: the process that may own and serve the file-based indexes.</summary>
    QueryApi,

    /// <summary>A CLI command working on a data directory in-process (parse, import, backup, lexical): embedded stores only.</summary>
    Offline,
}

/// <summary>Where the metadata (collections, documents, jobs) lives.</summary>
public enum MetadataPlacement
{
    /// <summary><c>metadata.db</c> in the data directory; document locks in process.</summary>
    Sqlite,

    /// <summary>PostgreSQL (<c>ConnectionStrings:ragdb</c>), shared by every process; document locks are advisory locks there.</summary>
    Postgres,
}

/// <summary>Where the file-based indexes (embedded and FAISS vectors, the embedded lexical index) are opened.</summary>
public enum IndexPlacement
{
    /// <summary>This process opens its own indexes.</summary>
    Local,

    /// <summary>This process opens its own indexes and serves them on <c>/internal/index</c> (<c>RagPlatform:IndexOwner:Serve</c>).</summary>
    Served,

    /// <summary>Another process owns them (<c>RagPlatform:IndexOwner:Endpoint</c>): reads and writes go through it.</summary>
    Remote,
}

/// <summary>Where the BM25 index lives.</summary>
public enum LexicalPlacement
{
    /// <summary>The embedded index in this process's data directory.</summary>
    Embedded,

    /// <summary>The index owner's embedded index, reached over <c>/internal/index</c>.</summary>
    OwnerEmbedded,

    /// <summary>PostgreSQL tables beside the metadata.</summary>
    Postgres,
}

/// <summary>The tier behind the embedding and search-result caches.</summary>
public enum CachePlacement
{
    /// <summary>In-process memory only.</summary>
    Memory,

    /// <summary>Redis (<c>ConnectionStrings:cache</c>) behind an optional in-process tier, shared by every process naming it.</summary>
    Redis,
}

/// <summary>The message bus transport, for the hosts that run a bus.</summary>
public enum MessagingTransport
{
    /// <summary>This host runs no bus (the query API, offline commands).</summary>
    None,

    /// <summary>MassTransit's in-memory transport: one process.</summary>
    InMemory,

    /// <summary>RabbitMQ (<c>ConnectionStrings:messaging</c>).</summary>
    RabbitMq,
}

/// <summary>
/// Which component runs where in this process, resolved once from configuration and the host's role by
/// <see cref="RagTopologyExtensions.ResolveRagTopology"/> (called by <c>AddRagPlatformCore</c>), validated there, and
/// read by every registration (<c>AddRagPlatformCore</c>, <c>AddRagSqliteMetadataStore</c>, <c>AddRagPostgres</c>,
/// <c>AddRedisRagCache</c>, <c>AddRagMessaging</c>): each registers its component only when the record names it, so
/// no registration replaces another and their order does not matter.
/// </summary>
public sealed record RagTopology(
    RagHostRole Role,
    MetadataPlacement Metadata,
    bool CollectionRecordCache,
    IndexPlacement Indexes,
    LexicalPlacement Lexical,
    CachePlacement Cache,
    MessagingTransport Messaging,
    string? IndexOwnerEndpoint)
{
    /// <summary>The connection string of the shared PostgreSQL database (Aspire's <c>AddDatabase("ragdb")</c>).</summary>
    public const string MetadataConnectionName = "ragdb";

    /// <summary>The connection string of the shared Redis cache.</summary>
    public const string CacheConnectionName = "cache";

    /// <summary>The connection string of the RabbitMQ broker.</summary>
    public const string MessagingConnectionName = "messaging";

    private const string IndexOwnerSection = RagPlatformOptions.SectionName + ":IndexOwner";

    /// <summary>
    /// Resolves the topology of a host of <paramref name="role"/> from <paramref name="configuration"/>. Throws
    /// <see cref="InvalidOperationException"/> naming the keys of every contradiction found (all at once).
    /// </summary>
    public static RagTopology Resolve(IConfiguration configuration, RagHostRole role)
    {
        var platform = configuration.GetSection(RagPlatformOptions.SectionName).Get<RagPlatformOptions>() ?? new RagPlatformOptions();
        var owner = platform.IndexOwner;
        var lexicalStore = configuration.GetSection(LexicalOptions.SectionName).Get<LexicalOptions>()?.Store ?? LexicalStore.Auto;
        var problems = new List<string>();

        // The offline commands open the data directory they are given, never the shared stores.
        var sharedStores = role != RagHostRole.Offline;
        var sharedCache = role is RagHostRole.EmbeddingWorker or RagHostRole.QueryApi;
        var runsBus = role is RagHostRole.Standalone or RagHostRole.IngestionService or RagHostRole.EmbeddingWorker;

        var hasDatabase = sharedStores && !string.IsNullOrWhiteSpace(configuration.GetConnectionString(MetadataConnectionName));
        var metadata = hasDatabase ? MetadataPlacement.Postgres : MetadataPlacement.Sqlite;

        var endpoint = string.IsNullOrWhiteSpace(owner.Endpoint) ? null : owner.Endpoint.Trim();
        if (owner.Serve && endpoint is not null)
        {
            problems.Add($"{IndexOwnerSection}:Serve is true and {IndexOwnerSection}:Endpoint is set: a process either owns the indexes " +
                "and serves them, or names the owner it uses, not both.");
        }

        if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            // Not echoed: a URL may carry credentials.
            problems.Add($"{IndexOwnerSection}:Endpoint must be an absolute http(s) URL such as http://query-api:8080 (value not shown).");
        }

        if (owner.Serve && role is RagHostRole.IngestionService or RagHostRole.EmbeddingWorker)
        {
            problems.Add($"{IndexOwnerSection}:Serve is true, but the {role} host does not serve /internal/index (the query API does).");
        }

        var indexes = endpoint is not null ? IndexPlacement.Remote : owner.Serve ? IndexPlacement.Served : IndexPlacement.Local;

        var lexical = LexicalPlacement.Embedded;
        if (sharedStores && lexicalStore == LexicalStore.Postgres)
        {
            if (hasDatabase)
            {
                lexical = LexicalPlacement.Postgres;
            }
            else
            {
                problems.Add($"{LexicalOptions.SectionName}:{nameof(LexicalOptions.Store)} is Postgres but ConnectionStrings:{MetadataConnectionName} is not set.");
            }
        }
        else if (indexes == IndexPlacement.Remote)
        {
            // Embedded or Auto with an owner named: the owner's embedded index, beside its vectors.
            lexical = LexicalPlacement.OwnerEmbedded;
        }
        else if (lexicalStore == LexicalStore.Auto && hasDatabase && indexes == IndexPlacement.Local)
        {
            // No index owner: the database is the only index every process shares.
            lexical = LexicalPlacement.Postgres;
        }

        var messaging = MessagingTransport.None;
        if (runsBus)
        {
            if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(MessagingConnectionName)))
            {
                messaging = MessagingTransport.RabbitMq;
            }
            else if (string.Equals(platform.Messaging.Transport, "InMemory", StringComparison.OrdinalIgnoreCase))
            {
                messaging = MessagingTransport.InMemory;
            }
            else if (string.Equals(platform.Messaging.Transport, "RabbitMQ", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{RagPlatformOptions.SectionName}:Messaging:Transport is RabbitMQ but ConnectionStrings:{MessagingConnectionName} is not set.");
            }
            else
            {
                problems.Add($"{RagPlatformOptions.SectionName}:Messaging:Transport '{platform.Messaging.Transport}' is not available " +
                    $"(supported: InMemory, RabbitMQ via ConnectionStrings:{MessagingConnectionName}).");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }

        var cache = sharedCache && !string.IsNullOrWhiteSpace(configuration.GetConnectionString(CacheConnectionName))
            ? CachePlacement.Redis
            : CachePlacement.Memory;

        // One process with its own embedded store: every write passes through it, so cached collection records stay exact.
        var collectionRecordCache = role == RagHostRole.Standalone && metadata == MetadataPlacement.Sqlite;
        return new RagTopology(role, metadata, collectionRecordCache, indexes, lexical, cache, messaging, endpoint);
    }

    /// <summary>One line for the start-up log, e.g. <c>role=QueryApi, metadata=Postgres, vectors=served, lexical=embedded, cache=Redis, messaging=none</c>.</summary>
    public string Describe()
    {
        var vectors = Indexes switch
        {
            IndexPlacement.Served => "owner (served on /internal/index)",
            IndexPlacement.Remote => $"remote owner at {SafeAuthority(IndexOwnerEndpoint)}",
            _ => "local",
        };
        var lexical = Lexical switch
        {
            LexicalPlacement.OwnerEmbedded => "owner-embedded",
            LexicalPlacement.Postgres => "Postgres",
            _ => "embedded",
        };
        return $"role={Role}, metadata={Metadata}{(CollectionRecordCache ? " (record cache)" : "")}, vectors={vectors}, lexical={lexical}, " +
            $"cache={Cache}, messaging={Messaging}";
    }

    // Scheme, host and port only: never the user-info part of a URL.
    private static string SafeAuthority(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : ":" + uri.Port)}" : "?";
}

public static partial class RagTopologyExtensions
{
    /// <summary>
    /// Resolves this host's <see cref="RagTopology"/> once, registers it as a singleton and logs it at start. A second
    /// call returns the record already resolved (and refuses another role).
    /// </summary>
    public static RagTopology ResolveRagTopology(this IHostApplicationBuilder builder, RagHostRole role)
    {
        if (builder.Properties.TryGetValue(typeof(RagTopology), out var existing))
        {
            var resolved = (RagTopology)existing;
            return resolved.Role == role
                ? resolved
                : throw new InvalidOperationException($"The topology was resolved for a {resolved.Role} host; this host cannot also be a {role} host.");
        }

        var topology = RagTopology.Resolve(builder.Configuration, role);
        builder.Properties[typeof(RagTopology)] = topology;
        builder.Services.AddSingleton(topology);
        builder.Services.AddHostedService<TopologyLog>();
        return topology;
    }

    /// <summary>The topology <see cref="ResolveRagTopology"/> resolved for this host.</summary>
    public static RagTopology GetRagTopology(this IHostApplicationBuilder builder) =>
        builder.Properties.TryGetValue(typeof(RagTopology), out var topology)
            ? (RagTopology)topology
            : throw new InvalidOperationException("No topology resolved yet: call AddRagPlatformCore(role) (or ResolveRagTopology(role)) first.");

    [LoggerMessage(Level = LogLevel.Information, Message = "topology: {Topology}")]
    private static partial void LogTopology(ILogger logger, string topology);

    private sealed class TopologyLog(RagTopology topology, ILogger<RagTopology> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogTopology(logger, topology.Describe());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
