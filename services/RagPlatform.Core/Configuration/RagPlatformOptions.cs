using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Core.Configuration;

/// <summary>The <c>RagPlatform</c> configuration section. Every key has a default that runs embedded.</summary>
public sealed class RagPlatformOptions
{
    public const string SectionName = "RagPlatform";

    /// <summary>Where the embedded stores keep their files (metadata database, vectors, plugin data).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public PluginOptions Plugins { get; set; } = new();

    [ValidateObjectMembers]
    public EmbeddingOptions Embedding { get; set; } = new();

    [ValidateObjectMembers]
    public VectorStoreOptions VectorStore { get; set; } = new();

    [ValidateObjectMembers]
    public ChunkingOptions Chunking { get; set; } = new();

    [ValidateObjectMembers]
    public IngestionOptions Ingestion { get; set; } = new();

    [ValidateObjectMembers]
    public QueryOptions Query { get; set; } = new();

    [ValidateObjectMembers]
    public MessagingOptions Messaging { get; set; } = new();

    [ValidateObjectMembers]
    public IndexOwnerOptions IndexOwner { get; set; } = new();

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);
}

/// <summary>
/// Validates every <see cref="RagPlatformOptions"/> member's attributes at start, nested classes included
/// (<c>ValidateDataAnnotations</c> stops at the top level, so a nested <c>[Range]</c> would do nothing).
/// Generated at compile time: no reflection.
/// </summary>
[OptionsValidator]
public sealed partial class RagPlatformOptionsValidator : IValidateOptions<RagPlatformOptions>;

public sealed class PluginOptions
{
    /// <summary>Folder of plugin folders (one per plugin). Default: <c>plugins</c> beside the host's assemblies.</summary>
    public string? Directory { get; set; }

    /// <summary>Extra plugin assemblies to load by path (a plugin kept outside the plugin folder).</summary>
    public List<string> Assemblies { get; set; } = [];

    public string ResolveDirectory() =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(Directory) ? Path.Combine(AppContext.BaseDirectory, "plugins") : Directory);
}

/// <summary>
/// <c>RagPlatform:Embedding</c>: the provider new collections use, and each provider's settings under
/// <c>Providers:&lt;name&gt;</c> (the plugin binds them to its own options class).
/// </summary>
public sealed class EmbeddingOptions
{
    [Required]
    public string Provider { get; set; } = "hashing";

    /// <summary>The monthly spending limit on paid providers (see docs/openai.md).</summary>
    [ValidateObjectMembers]
    public EmbeddingBudgetOptions Budget { get; set; } = new();
}

/// <summary>What happens when the month's embedding spend reaches <see cref="EmbeddingBudgetOptions.MonthlyLimit"/>.</summary>
public enum BudgetPolicy
{
    /// <summary>Paid calls are refused (a chain falls through to its free members of the same model).</summary>
    Stop,

    /// <summary>As <see cref="Stop"/>, and new collections are created on <see cref="EmbeddingBudgetOptions.LocalProvider"/>.</summary>
    LocalForNewCollections,
}

/// <summary><c>RagPlatform:Embedding:Budget</c>: a monthly limit on what paid providers (those with a
/// <c>PricePer1KTokens</c>) may spend. Spend is kept in <c>{DataDirectory}/usage/embedding-spend.json</c>.</summary>
public sealed class EmbeddingBudgetOptions
{
    /// <summary>The limit per calendar month (UTC), in <see cref="Currency"/>; 0 (the default) means none.</summary>
    [Range(typeof(decimal), "0", "1000000000")]
    public decimal MonthlyLimit { get; set; }

    public string Currency { get; set; } = "USD";

    public BudgetPolicy WhenExceeded { get; set; } = BudgetPolicy.Stop;

    /// <summary>The provider new collections get under <see cref="BudgetPolicy.LocalForNewCollections"/>.</summary>
    public string LocalProvider { get; set; } = "hashing";

    /// <summary>Keep embedding queries on paid providers over budget (search keeps working; indexing stops).</summary>
    public bool AllowQueriesOverBudget { get; set; } = true;
}

/// <summary><c>RagPlatform:VectorStore</c>: the backend new collections use; settings under <c>Backends:&lt;name&gt;</c>.</summary>
public sealed class VectorStoreOptions
{
    [Required]
    public string Backend { get; set; } = "embedded";

    /// <summary>
    /// Read fallback chain of the query API: backend names tried in order when a collection's own backend fails a
    /// search. A fallback is used only when it holds the collection with the same model fingerprint; writes never
    /// go there (keep it current with <c>rag migrate</c>). Empty: no fallback.
    /// </summary>
    public List<string> Fallback { get; set; } = [];

    /// <summary>
    /// After a re-index switches a collection to its new version, how long the old version's backend collection is
    /// kept so searches that resolved it just before the switch still finish; then it is dropped.
    /// </summary>
    [Range(0, 86_400)]
    public int RetiredVersionGraceSeconds { get; set; } = 60;
}

/// <summary>Default chunking for new collections, in the embedding model's tokens.</summary>
public sealed class ChunkingOptions
{
    [Range(16, 8192)]
    public int MaxTokens { get; set; } = 256;

    [Range(0, 4096)]
    public int OverlapTokens { get; set; } = 32;
}

public sealed class IngestionOptions
{
    /// <summary>Create a collection with the defaults on its first document batch; false answers 404 instead.</summary>
    public bool AutoCreateCollections { get; set; } = true;

    [Range(1, 100_000)]
    public int MaxDocumentsPerRequest { get; set; } = 10_000;

    /// <summary>Largest request body accepted by the ingestion endpoints (bytes).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Largest single document text (characters); longer texts are refused with 400, never truncated.</summary>
    [Range(1, int.MaxValue)]
    public int MaxDocumentChars { get; set; } = 5_000_000;

    [Range(1, 100_000)]
    public int MaxChunksPerMessage { get; set; } = 512;

    /// <summary>Largest file of <c>POST …/files</c> (bytes); a larger one fails alone, the others are still read.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    [Range(1, 10_000)]
    public int MaxFilesPerRequest { get; set; } = 100;

    /// <summary>Largest body of <c>POST …/files</c> (bytes, all files together); larger requests get 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxFilesRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Bounds on parsing one file (<c>RagPlatform:Ingestion:Parsing</c>).</summary>
    [ValidateObjectMembers]
    public ParsingOptions Parsing { get; set; } = new();
}

/// <summary>
/// What one file may cost to parse, so that a hostile file (a zip bomb, a PDF of a million pages, an HWP whose records
/// claim gigabytes) fails alone with a clear reason. Characters are bounded by <c>MaxDocumentChars</c>.
/// </summary>
public sealed class ParsingOptions
{
    /// <summary>Bytes one file may inflate to (archive entries and compressed streams together).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxDecompressedBytes { get; set; } = 256L * 1024 * 1024;

    [Range(1, 1_000_000)]
    public int MaxArchiveEntries { get; set; } = 10_000;

    [Range(2, 100_000)]
    public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>Pages (PDF pages, slides, sheets) one document may have.</summary>
    [Range(1, 1_000_000)]
    public int MaxPages { get; set; } = 5_000;

    /// <summary>How long one file may parse before it fails as too complex.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary>Files parsed at once per request (0: one per processor).</summary>
    [Range(0, 256)]
    public int MaxConcurrency { get; set; }
}

public sealed class QueryOptions
{
    [Range(1, 1000)]
    public int MaxTopK { get; set; } = 100;

    [Range(1, 100_000)]
    public int MaxQueryChars { get; set; } = 4_000;

    /// <summary>How long a search result stays cached (seconds); 0 disables the result cache.</summary>
    [Range(0, 86_400 * 7)]
    public int ResultCacheSeconds { get; set; } = 3600;

    /// <summary>How long a query embedding stays cached (seconds); 0 disables it.</summary>
    [Range(0, 86_400 * 30)]
    public int QueryEmbeddingCacheSeconds { get; set; } = 86_400;

    /// <summary>The mode of a search that names none: <c>hybrid</c>, <c>dense</c> or <c>lexical</c>.</summary>
    [RegularExpression("^(?i)(hybrid|dense|lexical)$")]
    public string DefaultMode { get; set; } = "hybrid";

    /// <summary>How hybrid search merges its two lists: <c>zscore</c> (each side's scores standardised over its
    /// candidates, weighted and summed: a per-query confidence), <c>rrf</c> (weighted reciprocal-rank fusion, the
    /// default before issue 15; the only one Qdrant runs inside itself) or <c>weighted</c> (min-max normalised
    /// scores, weighted and summed). See <see cref="Search.FusionMethod"/>.</summary>
    [RegularExpression("^(?i)(rrf|weighted|zscore)$")]
    public string Fusion { get; set; } = "zscore";

    /// <summary>The fusion these options configure.</summary>
    public Search.FusionSettings FusionSettings =>
        new(Search.FusionSettings.ParseMethod(Fusion), DenseWeight, LexicalWeight, RrfK);

    /// <summary>The k of reciprocal-rank fusion: 1 / (k + rank). Larger flattens the advantage of the top ranks.</summary>
    [Range(0.0, 10_000.0)]
    public double RrfK { get; set; } = 60;

    /// <summary>Candidates hybrid search takes from each side (at least topK).</summary>
    [Range(1, 10_000)]
    public int CandidateDepth { get; set; } = 50;

    /// <summary>Weight of the dense side in any fusion.</summary>
    [Range(0.0, 100.0)]
    public double DenseWeight { get; set; } = 1;

    /// <summary>Weight of the lexical side in any fusion. Three times the dense side by default: with the
    /// model-free hashing embedder BM25 is the stronger ranker on Korean, and 3 is what 5-fold cross-validation
    /// of the zscore fusion on AutoRAG-ko chose on most folds (each fold tuned on the other four; see
    /// docs/embedded-search.md). Since BM25's query-term saturation (<c>RagPlatform:Lexical:K3</c>) the folds prefer 6,
    /// a peak of one query above the 1.5–6 plateau that 3 sits in the middle of, and on ko-notes 6 falls to lexical's own
    /// recall@1: 3 stays. With a strong dense model, lower it.</summary>
    [Range(0.0, 100.0)]
    public double LexicalWeight { get; set; } = 3;

    /// <summary>Reranker plugin applied to the fused candidates; empty (the default) reranks nothing.</summary>
    public string? Reranker { get; set; }

    /// <summary>With a reranker configured, rerank every search that does not say <c>"rerank": false</c> (true, the
    /// default), or only those that say <c>"rerank": true</c> (false).</summary>
    public bool RerankByDefault { get; set; } = true;

    /// <summary>How many of a search's best candidates the reranker reads (a request may ask for another number,
    /// up to <see cref="MaxRerankTopN"/>); at least topK are read. A cross-encoder's cost grows with it.</summary>
    [Range(1, 1_000)]
    public int RerankTopN { get; set; } = 50;

    /// <summary>The largest <c>rerankTopN</c> a request may ask for.</summary>
    [Range(1, 10_000)]
    public int MaxRerankTopN { get; set; } = 200;

    /// <summary>Upper bound a context request may ask for in <c>maxChars</c>.</summary>
    [Range(200, 10_000_000)]
    public int MaxContextChars { get; set; } = 100_000;
}

public sealed class MessagingOptions
{
    /// <summary>
    /// <c>InMemory</c> (embedded) or <c>RabbitMQ</c>. Setting <c>ConnectionStrings:messaging</c> (an amqp URI, as
    /// Aspire injects it) selects RabbitMQ whatever this says.
    /// </summary>
    [Required]
    public string Transport { get; set; } = "InMemory";

    /// <summary>How many EmbedDocuments messages one process works on at once. 8 on two cores: vector and lexical
    /// writes of one collection take turns, so more messages in flight keep the CPUs busy (rag bench ingest: 4,096
    /// chunks/s at 8 vs 3,640 at 4).</summary>
    [Range(1, 256)]
    public int ConcurrentMessageLimit { get; set; } = 8;

    /// <summary>Redeliveries of a failing message before it faults (then its documents are marked failed).</summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 3;

    /// <summary>
    /// RabbitMQ: messages the broker hands one worker process ahead of acknowledgement. Twice the concurrency
    /// keeps the embedder busy between messages without one replica hoarding the queue from the others.
    /// 0 means <c>2 × ConcurrentMessageLimit</c>.
    /// </summary>
    [Range(0, 1000)]
    public int PrefetchCount { get; set; }

    /// <summary>
    /// How long a publish may wait for the broker (e.g. while RabbitMQ restarts and MassTransit reconnects)
    /// before the ingestion request fails with 503 and its documents are withdrawn, so posting them again retries them.
    /// </summary>
    [Range(1, 600)]
    public int PublishTimeoutSeconds { get; set; } = 20;

    public int EffectivePrefetchCount => PrefetchCount > 0 ? PrefetchCount : 2 * ConcurrentMessageLimit;
}

/// <summary>
/// <c>RagPlatform:IndexOwner</c>: file-based indexes (the embedded and FAISS vector backends, the embedded
/// lexical index) admit one process. In the distributed topology without a server-backed vector store, one
/// process (the query API) owns them and serves them on an internal API (<see cref="Serve"/>); every other
/// process (ingestion service, worker replicas) sets <see cref="Endpoint"/> and reads and writes through it.
/// </summary>
public sealed class IndexOwnerOptions
{
    /// <summary>Base URL of the owning process (e.g. the query API's http endpoint). Empty: this process uses its own indexes.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Serve this process's indexes on <c>/internal/index</c> for the processes that name it as their owner.</summary>
    public bool Serve { get; set; }

    /// <summary>An <c>admin</c> API key for the owner's <c>/internal/index</c> endpoints, needed when the owner has
    /// keys configured (RagPlatform:Security:Keys). Keep it in a secret store.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Timeout of one call to the owner (seconds).</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary>How calls to the owner are retried (RagPlatform:IndexOwner:Retry:MaxAttempts, BaseDelay, MaxDelay).</summary>
    [ValidateObjectMembers]
    public RemoteRetryOptions Retry { get; set; } = new();
}
