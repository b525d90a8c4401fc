using RagPlatform.Caching.Redis;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Core.Security;
using RagPlatform.Query;
using RagPlatform.Storage.Postgres;
using RagPlatform.Storage.Sqlite;
using RagPlatform.WebConsole;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore(RagHostRole.QueryApi);
builder.AddRagSqliteMetadataStore();
builder.AddRagPlatformOpenApi();
builder.AddRagPostgres();
builder.AddRedisRagCache();
builder.AddQuery();

var app = builder.Build();
app.UseRagPlatformErrors();
// Search and context only: collections, uploads and jobs are the ingestion service's.
app.UseWebConsole(WebConsoleFeatures.Query);
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapRagPlatformOpenApi(app.Environment);
app.MapQueryApi();
app.MapCacheStatsApi();
app.MapIndexOwnerApi();
app.Run();
