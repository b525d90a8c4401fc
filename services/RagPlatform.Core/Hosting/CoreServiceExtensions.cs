using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Lexical;
using RagPlatform.Core.Logging;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Providers;
using RagPlatform.Core.Security;
using RagPlatform.Core.Storage;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Hosting;

public static class CoreServiceExtensions
{
    /// <summary>
    /// What every RagPlatform service needs: the host's <see cref="RagTopology"/> (resolved and validated here, once),
    /// options, the plugin host, collections and problem-details errors, and the components of the topology that live
    /// in Core: the in-process cache, the embedded or the owner's lexical index, in-process document locks. The other
    /// components are registered by the host's AddRagSqliteMetadataStore, AddRagPostgres, AddRedisRagCache and
    /// AddRagMessaging, each of which reads the same record; the order of those calls does not matter.
    /// </summary>
    public static IHostApplicationBuilder AddRagPlatformCore(this IHostApplicationBuilder builder, RagHostRole role)
    {
        var topology = builder.ResolveRagTopology(role);
        var services = builder.Services;
        builder.AddLogCapture();
        services.AddValidatedOptions<RagPlatformOptions, RagPlatformOptionsValidator>(builder.Configuration, RagPlatformOptions.SectionName);
        services.AddValidatedOptions<CacheOptions, CacheOptionsValidator>(builder.Configuration, $"{RagPlatformOptions.SectionName}:Cache");

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RagPlatformOptions>>().Value;
            return new PluginCatalog(options.Plugins.ResolveDirectory(), options.Plugins.Assemblies, sp.GetRequiredService<ILogger<PluginCatalog>>());
        });
        services.AddSingleton<EmbeddingSpendLedger>();
        services.AddSingleton<PluginHost>();
        services.AddHostedService<EmbeddingChainValidator>();
        // Each concern of the metadata store is the same instance: the one IMetadataStore the topology's metadata
        // placement registers (SQLite, behind the collection-record cache where the record says so, or Postgres). The
        // container disposes a factory's result once per registration, so the stores' DisposeAsync is idempotent.
        services.AddSingleton<ICollectionStore>(sp => sp.GetRequiredService<IMetadataStore>());
        services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<IMetadataStore>());
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<IMetadataStore>());
        services.AddSingleton<IReindexStore>(sp => sp.GetRequiredService<IMetadataStore>());
        services.AddSingleton(sp => new CacheMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        if (topology.Cache == CachePlacement.Memory)
        {
            services.AddSingleton<IRagCache>(sp => new MemoryRagCache(sp.GetRequiredService<IOptions<CacheOptions>>().Value, sp.GetRequiredService<CacheMetrics>()));
        }

        services.AddSingleton<EmbeddingCache>();
        services.AddValidatedOptions<LexicalOptions, LexicalOptionsValidator>(builder.Configuration, LexicalOptions.SectionName);
        services.AddPluginHttpClient();
        if (topology.Indexes == IndexPlacement.Remote)
        {
            // Another process owns the file-based indexes: vectors (PluginHost) and lexical entries go through it.
            services.AddIndexOwnerClient(builder.Configuration.GetSection(RagPlatformOptions.SectionName).Get<RagPlatformOptions>()!.IndexOwner);
        }

        switch (topology.Lexical)
        {
            case LexicalPlacement.OwnerEmbedded:
                services.AddSingleton<ILexicalIndex>(sp => new RemoteLexicalIndex(sp.GetRequiredService<IndexOwnerClient>()));
                break;
            case LexicalPlacement.Embedded:
                services.AddSingleton<ILexicalIndex>(sp => new EmbeddedLexicalIndex(
                    Path.Combine(sp.GetRequiredService<IOptions<RagPlatformOptions>>().Value.ResolveDataDirectory(), "lexical"),
                    sp.GetRequiredService<IOptions<LexicalOptions>>().Value,
                    sp.GetRequiredService<ILogger<EmbeddedLexicalIndex>>()));
                break;
            // LexicalPlacement.Postgres: AddRagPostgres registers it.
        }

        services.AddSingleton<CollectionService>();
        if (topology.Metadata == MetadataPlacement.Sqlite)
        {
            // With the metadata in PostgreSQL, AddRagPostgres registers locks every process shares.
            services.AddSingleton<IDocumentLocks, DocumentLocks>();
        }

        services.AddHostedService<MetadataStoreInitializer>();

        builder.AddRagSecurity();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
            o.SerializerOptions.AllowTrailingCommas = false;
        });
        return builder;
    }

    /// <summary>Problem details for exceptions and for bare error status codes (404 of unknown routes, 405).</summary>
    public static WebApplication UseRagPlatformErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// Checks every configured plugin's settings and builds every configured provider chain at start-up, so a fallback or route to a provider of another vector
    /// space stops the service with the reason instead of surfacing on the first job.
    /// </summary>
    private sealed class EmbeddingChainValidator(PluginHost plugins, IConfiguration configuration, IOptions<RagPlatformOptions> options) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            // Every configured plugin's settings first, all problems at once, each naming its key.
            var problems = plugins.ValidateConfiguredSettings(options.Value);
            if (problems.Count > 0)
            {
                throw new OptionsValidationException(RagPlatformOptions.SectionName, typeof(RagPlatformOptions), problems);
            }

            foreach (var section in configuration.GetSection(EmbeddingProviderDefinition.ProvidersSection).GetChildren())
            {
                if (EmbeddingProviderDefinition.Read(configuration, section.Key).IsComposite)
                {
                    await plugins.GetEmbeddingProviderAsync(new EmbeddingSelection(section.Key, new Dictionary<string, string?>()), cancellationToken);
                }
            }

            var budget = options.Value.Embedding.Budget;
            if (budget.MonthlyLimit > 0 && budget.WhenExceeded == BudgetPolicy.LocalForNewCollections && !plugins.IsEmbeddingProvider(budget.LocalProvider))
            {
                throw new PluginConfigurationException(nameof(EmbeddingBudgetOptions),
                    [$"LocalProvider '{budget.LocalProvider}' is not an embedding provider here ({string.Join(", ", plugins.EmbeddingProviderNames)})."]);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class MetadataStoreInitializer(IMetadataStore store, PluginCatalog catalog, ILogger<MetadataStoreInitializer> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await store.InitializeAsync(cancellationToken);
            logger.LogInformation(
                "Plugins in {Directory}: embedding providers [{Providers}], vector backends [{Backends}], rerankers [{Rerankers}]",
                catalog.Directory, string.Join(", ", catalog.EmbeddingProviders), string.Join(", ", catalog.VectorBackends),
                string.Join(", ", catalog.Rerankers));
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
