using RagPlatform.Core.Hosting;
using RagPlatform.Core.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore();
builder.AddIngestion();
builder.AddRagMessaging();

var app = builder.Build();
app.UseRagPlatformErrors();
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapIngestionApi();
app.Run();
