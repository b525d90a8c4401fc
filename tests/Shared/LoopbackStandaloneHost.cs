using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace RagPlatform.Tests.Shared;

/// <summary>
/// The standalone host on real Kestrel (not the in-memory test server), bound to 127.0.0.1 on a free port, on a
/// temporary data directory that is deleted on dispose: for clients that open their own connections (RagPlatform.Client,
/// the OpenAI SDK). A subclass adds its settings by overriding <see cref="ConfigureWebHost"/> and calling this one first.
/// </summary>
public abstract class LoopbackStandaloneHost : WebApplicationFactory<Program>
{
    protected LoopbackStandaloneHost(string dataDirectoryPrefix)
    {
        // Set before the server starts: ConfigureWebHost runs inside StartServer.
        DataDirectory = Path.Combine(Path.GetTempPath(), dataDirectoryPrefix + Guid.NewGuid().ToString("N"));
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        StartServer();
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress => AddressOf(Services);

    public string DataDirectory { get; }

    /// <summary>The listening address, read from the server of <paramref name="services"/> (usable from a service factory).</summary>
    protected static Uri AddressOf(IServiceProvider services) =>
        new(services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
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
}
