using Aspire.Hosting.ApplicationModel;

namespace RagPlatform.AppHost.Infrastructure;

/// <summary>
/// The servers the services use, the same resource names and connection strings in both forms:
/// <c>messaging</c> (amqp://user:password@host:port), <c>ragdb</c> (Host=…;Port=…;Username=postgres;Password=…;Database=ragdb),
/// <c>cache</c> (host:port,password=…) and, where Qdrant is the vector backend, <c>qdrant</c>. <see cref="DataDirectory"/>
/// is the services' shared data folder on Local infrastructure (the index owner's vectors).
/// </summary>
public sealed record RagInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> Messaging,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<QdrantContainerResource>? Qdrant,
    string VectorBackend,
    string? DataDirectory);

/// <summary>The resource names, which are also the connection names the services read.</summary>
public static class ResourceNames
{
    public const string Messaging = "messaging";
    public const string Postgres = "postgres";
    public const string Database = "ragdb";
    public const string Cache = "cache";
    public const string Qdrant = "qdrant";
    public const string Epmd = "epmd";
    public const string Ingestion = "ingestion";
    public const string EmbeddingWorker = "embedding-worker";
    public const string Query = "query";
}
