using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Storage;
using RagPlatform.Lexical;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Core.Tests;

/// <summary>
/// Which component runs where is decided once, by <see cref="RagTopology.Resolve"/>: configuration and role in,
/// one record out, or a refusal naming the keys that contradict each other.
/// </summary>
public sealed partial class RagTopologyTests
{
    private const string Db = "ConnectionStrings:ragdb=Host=127.0.0.1;Port=9;Database=rag";
    private const string Redis = "ConnectionStrings:cache=127.0.0.1:9";
    private const string Broker = "ConnectionStrings:messaging=amqp://guest:guest@127.0.0.1:9";
    private const string Serve = "RagPlatform:IndexOwner:Serve=true";
    private const string Owner = "RagPlatform:IndexOwner:Endpoint=http://query-api:8080";

    public static TheoryData<RagHostRole, string[], string> Resolutions => new()
    {
        // role, configuration, the record as Describe() prints it
        { RagHostRole.Standalone, [], "role=Standalone, metadata=Sqlite (record cache), vectors=local, lexical=embedded, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Redis], "role=Standalone, metadata=Sqlite (record cache), vectors=local, lexical=embedded, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Db], "role=Standalone, metadata=Postgres, vectors=local, lexical=Postgres, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Db, "RagPlatform:Lexical:Store=Embedded"], "role=Standalone, metadata=Postgres, vectors=local, lexical=embedded, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Db, Serve], "role=Standalone, metadata=Postgres, vectors=owner (served on /internal/index), lexical=embedded, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Db, Owner], "role=Standalone, metadata=Postgres, vectors=remote owner at http://query-api:8080, lexical=owner-embedded, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Db, Owner, "RagPlatform:Lexical:Store=Postgres"], "role=Standalone, metadata=Postgres, vectors=remote owner at http://query-api:8080, lexical=Postgres, cache=Memory, messaging=InMemory" },
        { RagHostRole.Standalone, [Broker], "role=Standalone, metadata=Sqlite (record cache), vectors=local, lexical=embedded, cache=Memory, messaging=RabbitMq" },
        // The distributed topology the AppHost starts (file-based indexes owned by the query API).
        { RagHostRole.QueryApi, [Db, Redis, Serve], "role=QueryApi, metadata=Postgres, vectors=owner (served on /internal/index), lexical=embedded, cache=Redis, messaging=None" },
        { RagHostRole.IngestionService, [Db, Redis, Broker, Owner], "role=IngestionService, metadata=Postgres, vectors=remote owner at http://query-api:8080, lexical=owner-embedded, cache=Memory, messaging=RabbitMq" },
        { RagHostRole.EmbeddingWorker, [Db, Redis, Broker, Owner], "role=EmbeddingWorker, metadata=Postgres, vectors=remote owner at http://query-api:8080, lexical=owner-embedded, cache=Redis, messaging=RabbitMq" },
        // With a server-backed vector store no process owns indexes: the lexical index is the database's.
        { RagHostRole.EmbeddingWorker, [Db, Broker], "role=EmbeddingWorker, metadata=Postgres, vectors=local, lexical=Postgres, cache=Memory, messaging=RabbitMq" },
        // Offline commands open the data directory, never the shared stores.
        { RagHostRole.Offline, [Db, Redis, "RagPlatform:Lexical:Store=Postgres"], "role=Offline, metadata=Sqlite, vectors=local, lexical=embedded, cache=Memory, messaging=None" },
        { RagHostRole.Offline, [Owner], "role=Offline, metadata=Sqlite, vectors=remote owner at http://query-api:8080, lexical=owner-embedded, cache=Memory, messaging=None" },
    };

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void Configuration_and_role_resolve_to_one_record(RagHostRole role, string[] settings, string expected) =>
        Assert.Equal(expected, RagTopology.Resolve(Configuration(settings), role).Describe());

    public static TheoryData<RagHostRole, string[], string[]> Refusals => new()
    {
        { RagHostRole.Standalone, ["RagPlatform:Lexical:Store=Postgres"], ["RagPlatform:Lexical:Store", "ConnectionStrings:ragdb"] },
        { RagHostRole.QueryApi, [Db, Serve, Owner], ["RagPlatform:IndexOwner:Serve", "RagPlatform:IndexOwner:Endpoint"] },
        { RagHostRole.IngestionService, [Db, "RagPlatform:IndexOwner:Endpoint=query-api"], ["RagPlatform:IndexOwner:Endpoint"] },
        { RagHostRole.EmbeddingWorker, [Db, Serve], ["RagPlatform:IndexOwner:Serve", "EmbeddingWorker"] },
        { RagHostRole.IngestionService, [Db, "RagPlatform:Messaging:Transport=RabbitMQ"], ["RagPlatform:Messaging:Transport", "ConnectionStrings:messaging"] },
        { RagHostRole.Standalone, ["RagPlatform:Messaging:Transport=Kafka"], ["RagPlatform:Messaging:Transport", "Kafka"] },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Contradictions_stop_start_up_naming_the_keys(RagHostRole role, string[] settings, string[] named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RagTopology.Resolve(Configuration(settings), role));
        foreach (var key in named)
        {
            Assert.Contains(key, error.Message);
        }
    }

    [Fact]
    public void Every_contradiction_is_reported_at_once()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            RagTopology.Resolve(Configuration(["RagPlatform:Lexical:Store=Postgres", Serve, Owner]), RagHostRole.Standalone));
        Assert.Contains("RagPlatform:Lexical:Store", error.Message);
        Assert.Contains("RagPlatform:IndexOwner:Serve", error.Message);
    }

    [Fact]
    public void The_logged_record_never_shows_credentials_of_the_owner_url()
    {
        var topology = RagTopology.Resolve(Configuration(["RagPlatform:IndexOwner:Endpoint=http://admin:s3cret@owner:9000/"]), RagHostRole.Offline);
        Assert.DoesNotContain("s3cret", topology.Describe());
        Assert.Contains("http://owner:9000", topology.Describe());
    }

    [Fact]
    public void The_topology_is_resolved_once_per_host_and_registered_as_a_singleton()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var first = builder.ResolveRagTopology(RagHostRole.Standalone);

        Assert.Same(first, builder.ResolveRagTopology(RagHostRole.Standalone));
        Assert.Throws<InvalidOperationException>(() => builder.ResolveRagTopology(RagHostRole.QueryApi));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(RagTopology));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_offline_composition_registers_each_component_once_whatever_the_call_order(bool remoteOwner)
    {
        string[] settings = remoteOwner ? [Owner] : [];
        // The storage extension before Core's lexical and cache registrations or after: the same container.
        foreach (var sqliteFirst in new[] { false, true })
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddConfiguration(Configuration(settings));
            if (sqliteFirst)
            {
                builder.ResolveRagTopology(RagHostRole.Offline);
                builder.AddRagSqliteMetadataStore();
                builder.AddRagPlatformCore(RagHostRole.Offline);
            }
            else
            {
                builder.AddRagPlatformCore(RagHostRole.Offline);
                builder.AddRagSqliteMetadataStore();
            }

            foreach (var service in new[] { typeof(IMetadataStore), typeof(ILexicalIndex), typeof(IRagCache), typeof(IDocumentLocks), typeof(RagTopology) })
            {
                Assert.Single(builder.Services, d => d.ServiceType == service);
            }
        }
    }

    /// <summary>The registrations read the record; none replaces another's choice after the fact.</summary>
    [Fact]
    public void No_registration_overrides_the_topology_with_RemoveAll()
    {
        var root = typeof(RagTopologyTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        var offenders = new List<string>();
        foreach (var folder in new[] { "services", "plugins" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                {
                    continue;
                }

                if (OverrideOfATopologyChoice().IsMatch(File.ReadAllText(file)))
                {
                    offenders.Add(Path.GetRelativePath(root, file));
                }
            }
        }

        Assert.True(offenders.Count == 0, "RemoveAll/Replace of a topology component in: " + string.Join(", ", offenders));
    }

    [GeneratedRegex(@"\b(RemoveAll|Replace|TryAdd\w*)\s*<\s*(IMetadataStore|ILexicalIndex|IRagCache|IDocumentLocks)\s*>")]
    private static partial Regex OverrideOfATopologyChoice();

    private static IConfiguration Configuration(string[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => s.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], (string?)p[1]))).Build();
}
