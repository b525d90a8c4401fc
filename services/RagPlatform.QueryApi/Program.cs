using RagPlatform.Core.Hosting;
using RagPlatform.Query;
using RagPlatform.Storage.Postgres;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore();
builder.AddRagPostgres();
builder.AddQuery();

var app = builder.Build();
app.UseRagPlatformErrors();
app.MapDefaultEndpoints();
app.MapQueryApi();
app.Run();
