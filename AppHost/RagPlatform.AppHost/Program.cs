// The distributed topology of DESIGN.md: RabbitMQ carries embedding work from the ingestion service to the
// embedding workers, Postgres keeps the metadata, Redis caches embeddings and queries, and the vector backend (Qdrant by
// default) holds the vectors. Every service gets its settings exactly as the services read them:
// ConnectionStrings__<name> from WithReference, RagPlatform__* from WithEnvironment, OTEL_* from Aspire.
// The distributed mode's dev-up script starts the same topology without Docker, with the same variables.

var builder = DistributedApplication.CreateBuilder(args);

// Which embedding provider and vector backend this environment runs, from the AppHost's configuration
// (appsettings.json, appsettings.{Environment}.json, or e.g. --RagPlatform:VectorBackend=pgvector). They
// decide the topology (Qdrant only runs when it is the backend; the OpenAI key is asked for only when used).
var vectorBackend = builder.Configuration["RagPlatform:VectorBackend"] ?? "qdrant";
var embeddingProvider = builder.Configuration["RagPlatform:EmbeddingProvider"] ?? "hashing";

// Secrets: values from user secrets / configuration (Parameters:<name>) or asked for by the dashboard;
// in publish mode they become deployment inputs. Never written into images or manifests as values.
var rabbitPassword = builder.AddParameter("rabbitmq-password", secret: true);
var postgresPassword = builder.AddParameter("postgres-password", secret: true);

var messaging = builder.AddRabbitMQ("messaging", password: rabbitPassword)
    .WithManagementPlugin()
    .WithDataVolume();

var postgres = builder.AddPostgres("postgres", password: postgresPassword)
    .WithImage("pgvector/pgvector", "pg17")
    .WithDataVolume();
var ragdb = postgres.AddDatabase("ragdb");

var cache = builder.AddRedis("cache");

IResourceBuilder<QdrantServerResource>? qdrant = vectorBackend == "qdrant"
    ? builder.AddQdrant("qdrant").WithDataVolume()
    : null;

IResourceBuilder<ParameterResource>? openAiKey = embeddingProvider == "openai"
    ? builder.AddParameter("openai-api-key", secret: true)
    : null;

builder.AddProject<Projects.RagPlatform_IngestionService>("ingestion")
    .WithRagPlatformSettings(vectorBackend, embeddingProvider, qdrant, openAiKey)
    .WithEnvironment("RagPlatform__Messaging__Transport", "RabbitMQ")
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(ragdb).WaitFor(ragdb)
    .WithHealthProbes()
    .WithExternalHttpEndpoints()
    .PublishAsDockerFile(container => container.WithDockerfile("../..", "deploy/Dockerfile", stage: "ingestion-service"));

builder.AddProject<Projects.RagPlatform_EmbeddingWorker>("embedding-worker")
    .WithReplicas(2)
    .WithRagPlatformSettings(vectorBackend, embeddingProvider, qdrant, openAiKey)
    .WithEnvironment("RagPlatform__Messaging__Transport", "RabbitMQ")
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(ragdb).WaitFor(ragdb)
    .WithReference(cache).WaitFor(cache)
    .WithHealthProbes()
    .PublishAsDockerFile(container => container.WithDockerfile("../..", "deploy/Dockerfile", stage: "embedding-worker"));

builder.AddProject<Projects.RagPlatform_QueryApi>("query")
    .WithRagPlatformSettings(vectorBackend, embeddingProvider, qdrant, openAiKey)
    .WithReference(ragdb).WaitFor(ragdb)
    .WithReference(cache).WaitFor(cache)
    .WithHealthProbes()
    .WithExternalHttpEndpoints()
    .PublishAsDockerFile(container => container.WithDockerfile("../..", "deploy/Dockerfile", stage: "query-api"));

builder.Build().Run();

internal static class RagPlatformResourceExtensions
{
    /// <summary>What every service needs alike: the backend and provider names, and the stores they imply.</summary>
    public static IResourceBuilder<ProjectResource> WithRagPlatformSettings(
        this IResourceBuilder<ProjectResource> service,
        string vectorBackend,
        string embeddingProvider,
        IResourceBuilder<QdrantServerResource>? qdrant,
        IResourceBuilder<ParameterResource>? openAiKey)
    {
        service
            .WithEnvironment("RagPlatform__VectorStore__Backend", vectorBackend)
            .WithEnvironment("RagPlatform__Embedding__Provider", embeddingProvider);

        if (qdrant is not null)
        {
            // Injects ConnectionStrings__qdrant (gRPC) and ConnectionStrings__qdrant_http (REST, the one we use).
            service.WithReference(qdrant).WaitFor(qdrant);
        }

        if (openAiKey is not null)
        {
            service.WithEnvironment("RagPlatform__Embedding__Providers__openai__ApiKey", openAiKey);
        }

        return service;
    }

    /// <summary>
    /// Readiness on /health (every check) and liveness on /alive (the live-tagged self check). Each probe also
    /// registers the matching WithHttpHealthCheck, which the dashboard shows and WaitFor waits on; publishers
    /// turn the probes into Kubernetes readiness/liveness probes.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithHealthProbes(this IResourceBuilder<ProjectResource> service) =>
        service
            .WithHttpProbe(ProbeType.Readiness, "/health")
            .WithHttpProbe(ProbeType.Liveness, "/alive");
}
