using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Hosting;
using RagPlatform.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Embedding;
using RagPlatform.Ingestion;
using RagPlatform.Query;
using RagPlatform.Storage.Postgres;
using RagPlatform.Storage.Sqlite;
using RagPlatform.WebConsole;

namespace RagPlatform.Hosting;

/// <summary>
/// All three services in one process on one port: ingestion, the embedding worker (its consumers on the
/// in-memory bus) and the query API. The same components the separate hosts run, composed once.
/// </summary>
public static class StandaloneHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // Content root = the install folder, so appsettings.json is found wherever `rag serve` is run from;
        // relative data paths still resolve against the current directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddServiceDefaults();
        builder.AddRagPlatformCore(RagHostRole.Standalone);
        builder.AddRagSqliteMetadataStore();
        builder.AddRagPlatformOpenApi();
        builder.AddRagPostgres();
        builder.AddIngestion();
        builder.AddEmbeddingWorker();
        // With the bus in memory: at start, fail what a crash lost and bring the indexes back to the metadata.
        builder.AddInterruptedWorkRecovery();

        builder.AddQuery();
        builder.AddRagMessaging(bus => bus.AddEmbeddingConsumers());
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        app.UseRagPlatformErrors();
        // Before the API key check: the console's files hold no data; its API calls carry the key.
        app.UseWebConsole(WebConsoleFeatures.All);
        app.UseRagPlatformSecurity();
        app.MapDefaultEndpoints();
        app.MapRagPlatformOpenApi(app.Environment);
        app.MapIngestionApi();
        app.MapQueryApi();
        app.MapEmbeddingsApi();
        app.MapProviderUsageApi();
        app.MapCacheStatsApi();
        return app;
    }
}
