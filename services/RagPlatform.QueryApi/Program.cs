using RagPlatform.Core.Hosting;
using RagPlatform.Core.Security;
using RagPlatform.Query;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore();
builder.AddQuery();

var app = builder.Build();
app.UseRagPlatformErrors();
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapQueryApi();
app.Run();
