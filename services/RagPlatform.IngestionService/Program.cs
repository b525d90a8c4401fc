using RagPlatform.Core.Hosting;
using RagPlatform.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion;
using RagPlatform.Storage.Postgres;
using RagPlatform.Storage.Sqlite;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore(RagHostRole.IngestionService);
builder.AddRagSqliteMetadataStore();
builder.AddRagPlatformOpenApi();
builder.AddRagPostgres();
builder.AddIngestion();
builder.AddRagMessaging();

var app = builder.Build();
app.UseRagPlatformErrors();
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapRagPlatformOpenApi(app.Environment);
app.MapIngestionApi();
app.Run();
