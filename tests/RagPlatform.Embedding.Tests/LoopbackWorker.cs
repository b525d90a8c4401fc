using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace RagPlatform.Embedding.Tests;

/// <summary>
/// The standalone host (which serves the embedding worker's /v1/embeddings and /v1/models) on real Kestrel,
/// bound to 127.0.0.1 on a free port, with the onnx provider configured on the committed fixture model.
/// </summary>
public sealed class LoopbackWorker : WebApplicationFactory<Program>
{
    public LoopbackWorker()
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        StartServer();
        BaseAddress = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress { get; }

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "rag-embedding-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
        builder.UseSetting("RagPlatform:Embedding:Providers:onnx:ModelPath", Metadata("TinyBertModel"));
        builder.UseSetting("RagPlatform:Embedding:Providers:onnx:IntraOpThreads", "1");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A plugin still flushing: a temp folder left behind fails no test.
            }
        }
    }

    private static string Metadata(string key) => typeof(LoopbackWorker).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;
}
