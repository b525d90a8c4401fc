using RagPlatform.Caching.Redis;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Hosting;
using RagPlatform.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Embedding;
using RagPlatform.Storage.Postgres;
using RagPlatform.Storage.Sqlite;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore(RagHostRole.EmbeddingWorker);
builder.AddRagSqliteMetadataStore();
builder.AddRagPlatformOpenApi();
builder.AddRagPostgres();
builder.AddRedisRagCache();
builder.AddEmbeddingWorker();
builder.AddRagMessaging(bus => bus.AddEmbeddingConsumers());

var app = builder.Build();
app.UseRagPlatformErrors();
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapRagPlatformOpenApi(app.Environment);
app.MapEmbeddingsApi();
app.MapProviderUsageApi();
app.MapCacheStatsApi();
app.Run();
