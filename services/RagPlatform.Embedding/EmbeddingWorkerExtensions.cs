using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Embedding;

public static class EmbeddingWorkerExtensions
{
    /// <summary>The worker's services; the model is loaded at start-up, not on the first request.</summary>
    public static IHostApplicationBuilder AddEmbeddingWorker(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DocumentEmbedder>();
        builder.Services.AddSingleton<VersionCopier>();
        builder.Services.AddHostedService<RetiredVersionSweeper>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddHostedService<DefaultModelWarmup>();
        return builder;
    }

    /// <summary>The worker's bus consumers, for <c>AddRagMessaging</c>.</summary>
    public static void AddEmbeddingConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<EmbedDocumentsConsumer, EmbedDocumentsConsumerDefinition>();
        bus.AddConsumer<EmbedDocumentsFaultConsumer>();
        bus.AddConsumer<ReindexDocumentsConsumer, ReindexDocumentsConsumerDefinition>();
        bus.AddConsumer<ReindexDocumentsFaultConsumer>();
    }

    private sealed class DefaultModelWarmup(ModelRegistry models, ILogger<DefaultModelWarmup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await models.GetAsync(models.DefaultModel, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // Keep serving (health, other models); the status endpoint reports the error.
                logger.LogError(ex, "Default model {Model} failed to load", models.DefaultModel);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
