using Aspire.Hosting.ApplicationModel;
using RagPlatform.AppHost.Infrastructure;

namespace RagPlatform.AppHost;

/// <summary>
/// The three services over the infrastructure, each given exactly what it reads: its connection strings
/// (<c>ConnectionStrings__&lt;name&gt;</c> by <c>WithReference</c>), the <c>RagPlatform__*</c> settings below, and the
/// <c>OTEL_*</c> variables Aspire adds. Every service is ready when its <c>/health</c> (all checks) answers.
/// </summary>
public static class RagServices
{
    private const string DockerfileContext = "../..";
    private const string Dockerfile = "deploy/Dockerfile";

    public static void AddRagServices(this IDistributedApplicationBuilder builder, RagAppHostOptions options, RagInfrastructure infrastructure)
    {
        var openAiKey = string.Equals(options.EmbeddingProvider, "openai", StringComparison.OrdinalIgnoreCase)
            ? builder.AddParameter("openai-api-key", secret: true)
            : null;
        // A file-based backend admits one process: the query API owns it and serves it to the others.
        var ownsIndexes = RagAppHostOptions.FileBackedVectorBackends.Contains(infrastructure.VectorBackend);

        var query = builder.AddProject<Projects.RagPlatform_QueryApi>(ResourceNames.Query)
            .WithPlatformSettings(options, infrastructure, openAiKey)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database)
            .WithReference(infrastructure.Cache).WaitFor(infrastructure.Cache)
            .WithExternalHttpEndpoints()
            .PublishAsDockerFile(container => container.WithDockerfile(DockerfileContext, Dockerfile, stage: "query-api"));
        if (ownsIndexes)
        {
            query.WithEnvironment("RagPlatform__IndexOwner__Serve", "true");
        }

        builder.AddProject<Projects.RagPlatform_IngestionService>(ResourceNames.Ingestion)
            .WithPlatformSettings(options, infrastructure, openAiKey)
            .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database)
            .WithIndexOwner(query, ownsIndexes)
            .WithExternalHttpEndpoints()
            .PublishAsDockerFile(container => container.WithDockerfile(DockerfileContext, Dockerfile, stage: "ingestion-service"));

        builder.AddProject<Projects.RagPlatform_EmbeddingWorker>(ResourceNames.EmbeddingWorker)
            .WithReplicas(options.EmbeddingWorkers)
            .WithPlatformSettings(options, infrastructure, openAiKey)
            .WithReference(infrastructure.Messaging).WaitFor(infrastructure.Messaging)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database)
            .WithReference(infrastructure.Cache).WaitFor(infrastructure.Cache)
            .WithIndexOwner(query, ownsIndexes)
            .PublishAsDockerFile(container => container.WithDockerfile(DockerfileContext, Dockerfile, stage: "embedding-worker"));
    }

    /// <summary>What every service needs alike: provider, backend, the backend's server, the data folder, pass-through settings.</summary>
    private static IResourceBuilder<ProjectResource> WithPlatformSettings(
        this IResourceBuilder<ProjectResource> service, RagAppHostOptions options, RagInfrastructure infrastructure,
        IResourceBuilder<ParameterResource>? openAiKey)
    {
        service
            // Connection strings and service discovery only: the services read nothing else of what they reference
            // (Aspire would add each server's host, port, password and URI as variables of their own).
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery)
            .WithEnvironment("RagPlatform__Embedding__Provider", options.EmbeddingProvider)
            .WithEnvironment("RagPlatform__VectorStore__Backend", infrastructure.VectorBackend)
            .WithHttpHealthCheck("/health");
        if (infrastructure.DataDirectory is { } data)
        {
            service.WithEnvironment("RagPlatform__DataDirectory", data);
        }

        if (infrastructure.Qdrant is { } qdrant)
        {
            service.WithReference(qdrant).WaitFor(qdrant);
        }

        if (openAiKey is not null)
        {
            service.WithEnvironment("RagPlatform__Embedding__Providers__openai__ApiKeys__0", openAiKey);
        }

        foreach (var (key, value) in options.ServiceSettings)
        {
            service.WithEnvironment("RagPlatform__" + key.Replace(":", "__", StringComparison.Ordinal), value ?? "");
        }

        return service;
    }

    /// <summary>
    /// The index owner's address by service discovery (<c>http://query</c>, resolved from the <c>services__query__http__0</c>
    /// that <c>WithReference</c> injects): vectors and lexical entries are written and read through it.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithIndexOwner(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ProjectResource> owner, bool ownsIndexes) =>
        ownsIndexes
            ? service.WithReference(owner).WaitFor(owner).WithEnvironment("RagPlatform__IndexOwner__Endpoint", $"http://{owner.Resource.Name}")
            : service;
}
