using RagPlatform.Core.Hosting;
using RagPlatform.Core.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Embedding;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRagPlatformCore();
builder.AddEmbeddingWorker();
builder.AddRagMessaging(bus => bus.AddEmbeddingConsumers());

var app = builder.Build();
app.UseRagPlatformErrors();
app.UseRagPlatformSecurity();
app.MapDefaultEndpoints();
app.MapEmbeddingsApi();
app.Run();
