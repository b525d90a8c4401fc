using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Hosting;

namespace RagPlatform.Cli.Hosting;

/// <summary>
/// The whole platform (<see cref="StandaloneHost"/>) started inside the CLI process on a free loopback port,
/// for commands that find no server and for benchmarks. Commands still talk to it over HTTP, so they
/// exercise exactly the contract a remote server offers.
/// </summary>
public sealed class InProcessPlatform : IAsyncDisposable
{
    private const string AnyLoopbackPort = "http://127.0.0.1:0";
    private readonly WebApplication _app;

    private InProcessPlatform(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <param name="dataDirectory">RagPlatform:DataDirectory for this run.</param>
    /// <param name="configurationArguments">Extra <c>--Section:Key=value</c> arguments, applied after the defaults here.</param>
    public static async Task<InProcessPlatform> StartAsync(string dataDirectory, IEnumerable<string> configurationArguments, CancellationToken cancellationToken)
    {
        List<string> args =
        [
            // The host's own chatter would drown the command's output; warnings and errors still show.
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            // stdout belongs to the command (--json output must stay parseable), so logs go to stderr.
            "--Logging:Console:LogToStandardErrorThreshold=Trace",
            "--RagPlatform:DataDirectory=" + dataDirectory,
        ];
        args.AddRange(configurationArguments);
        args.Add("--urls=" + AnyLoopbackPort);

        var builder = StandaloneHost.CreateBuilder([.. args]);
        var app = StandaloneHost.Build(builder);
        try
        {
            await app.StartAsync(cancellationToken);
            // Port 0 lets the OS pick; the server reports the address it actually bound.
            var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new InProcessPlatform(app, new Uri(bound.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
    }
}
