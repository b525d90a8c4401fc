using RagPlatform.Caching.Redis;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Query;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore();
builder.AddRedisRagCache();
builder.AddQuery();

var app = builder.Build();
app.UseRagPlatformErrors();
app.MapDefaultEndpoints();
app.MapQueryApi();
app.MapIndexOwnerApi();
app.Run();
