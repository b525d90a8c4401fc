using Aspire.Hosting.ApplicationModel;

namespace RagPlatform.AppHost.Infrastructure;

/// <summary>
/// The servers as containers, for machines with a container runtime and for publishing: RabbitMQ with its management
/// plugin, PostgreSQL on the pgvector image with <c>ragdb</c>, Redis, and Qdrant (REST and gRPC) when it is the backend.
/// </summary>
public static class ContainerInfrastructure
{
    public const string QdrantImage = "qdrant/qdrant";
    public const string QdrantTag = "v1.16.3";

    public static RagInfrastructure AddContainerInfrastructure(this IDistributedApplicationBuilder builder, string vectorBackend, InfrastructureSecrets secrets)
    {
        var messaging = builder.AddRabbitMQ(ResourceNames.Messaging, password: secrets.MessagingPassword)
            .WithManagementPlugin()
            .WithDataVolume();
        var database = builder.AddPostgres(ResourceNames.Postgres, password: secrets.PostgresPassword)
            .WithImage("pgvector/pgvector", "pg17")
            .WithDataVolume()
            .AddDatabase(ResourceNames.Database);
        var cache = builder.AddRedis(ResourceNames.Cache, password: secrets.CachePassword);

        var qdrant = string.Equals(vectorBackend, "qdrant", StringComparison.OrdinalIgnoreCase) ? builder.AddQdrantContainer() : null;
        return new RagInfrastructure(messaging, database, cache, qdrant, vectorBackend, DataDirectory: null);
    }

    /// <summary>
    /// Qdrant (Aspire.Hosting.Qdrant is not served to us): gRPC on 6334 and REST on 6333, an API key, a data volume,
    /// ready when <c>/readyz</c> answers.
    /// </summary>
    private static IResourceBuilder<QdrantContainerResource> AddQdrantContainer(this IDistributedApplicationBuilder builder)
    {
        var apiKey = builder.AddParameter(ResourceNames.Qdrant + "-key", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
        return builder.AddResource(new QdrantContainerResource(ResourceNames.Qdrant, apiKey.Resource))
            .WithImage(QdrantImage, QdrantTag)
            .WithHttpEndpoint(targetPort: 6334, name: QdrantContainerResource.GrpcEndpointName)
            .WithEndpoint(QdrantContainerResource.GrpcEndpointName, endpoint => endpoint.Transport = "http2")
            .WithHttpEndpoint(targetPort: 6333, name: QdrantContainerResource.HttpEndpointName)
            .WithEnvironment("QDRANT__SERVICE__API_KEY", apiKey)
            .WithVolume("ragplatform-qdrant-data", "/qdrant/storage")
            .WithHttpHealthCheck("/readyz", endpointName: QdrantContainerResource.HttpEndpointName);
    }
}

/// <summary>
/// The Qdrant container. Its connection string is Aspire's for Qdrant, <c>Endpoint=http://host:grpc-port;Key=…</c>
/// (<c>ConnectionStrings__qdrant</c>), what the qdrant plugin (Qdrant.Client, gRPC) reads; the REST port serves the
/// health check and Qdrant's own web UI.
/// </summary>
public sealed class QdrantContainerResource(string name, ParameterResource apiKey) : ContainerResource(name), IResourceWithConnectionString
{
    public const string GrpcEndpointName = "grpc";
    public const string HttpEndpointName = "http";

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Endpoint={this.GetEndpoint(GrpcEndpointName).Property(EndpointProperty.Url)};Key={apiKey}");
}
