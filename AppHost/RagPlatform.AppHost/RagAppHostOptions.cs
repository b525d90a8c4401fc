using System.ComponentModel.DataAnnotations;

namespace RagPlatform.AppHost;

/// <summary>
/// The AppHost's <c>RagPlatform</c> section (appsettings.json, or e.g. <c>--RagPlatform:Infrastructure=Local</c>):
/// which servers run and how, and what the services are told.
/// </summary>
public sealed class RagAppHostOptions
{
    public const string SectionName = "RagPlatform";

    /// <summary>How RabbitMQ, PostgreSQL and Redis run: containers where Docker answers, Debian's servers otherwise.</summary>
    public InfrastructureMode Infrastructure { get; set; } = InfrastructureMode.Auto;

    /// <summary>
    /// The vector backend the services use. Empty: <c>qdrant</c> with containers (a Qdrant container beside the
    /// others), <c>embedded</c> on Local infrastructure, owned by the query API and reached by the others through it.
    /// A file-based backend (<c>embedded</c>, <c>faiss</c>) always runs that way.
    /// </summary>
    public string? VectorBackend { get; set; }

    /// <summary>The embedding provider of new collections (<c>hashing</c> needs no model and no key).</summary>
    [Required]
    public string EmbeddingProvider { get; set; } = "hashing";

    /// <summary>Embedding worker replicas competing for the one queue.</summary>
    [Range(1, 32)]
    public int EmbeddingWorkers { get; set; } = 2;

    /// <summary>
    /// Local infrastructure only: where the servers and the services keep their data between runs. Relative paths are
    /// relative to the AppHost's project folder. Default: <c>artifacts/apphost</c> at the repository root.
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// Settings given to every service as they are, under their own <c>RagPlatform</c> section: e.g.
    /// <c>ServiceSettings:Ingestion:MaxChunksPerMessage=64</c> becomes <c>RagPlatform__Ingestion__MaxChunksPerMessage</c>.
    /// </summary>
    public Dictionary<string, string?> ServiceSettings { get; set; } = [];

    /// <summary>The backend names whose data are files one process must own (the query API serves them to the others).</summary>
    public static readonly IReadOnlySet<string> FileBackedVectorBackends = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "embedded", "faiss" };
}

public enum InfrastructureMode
{
    /// <summary>Containers when a container runtime answers, Local otherwise; always Containers when publishing.</summary>
    Auto,

    /// <summary>RabbitMQ (with management), PostgreSQL on the pgvector image and Redis as containers, and Qdrant.</summary>
    Containers,

    /// <summary>Debian's RabbitMQ (with its own epmd), PostgreSQL and Redis as executables on DCP-allocated ports.</summary>
    Local,
}
