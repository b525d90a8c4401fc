using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RagPlatform.ServiceDefaults.Tests;

/// <summary>A loopback HTTP server answering from a script (status, optional Retry-After), then 200; it records each request body.</summary>
public sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _script;
    private readonly WebApplication _app;

    private ScriptedUpstream(IEnumerable<(int, string?)> script, int? always)
    {
        _script = new(script);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            Bodies.Enqueue(await reader.ReadToEndAsync());
            var (status, retryAfter) = always is { } fixedStatus ? (fixedStatus, null) : _script.TryDequeue(out var next) ? next : (200, null);
            context.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }

            await context.Response.WriteAsync(status == 200 ? "ok" : "unavailable");
        });
    }

    public ConcurrentQueue<string> Bodies { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static Task<ScriptedUpstream> StartAsync(params (int Status, string? RetryAfter)[] script) => StartAsync(new ScriptedUpstream(script, null));

    public static Task<ScriptedUpstream> AlwaysAsync(int status) => StartAsync(new ScriptedUpstream([], status));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private static async Task<ScriptedUpstream> StartAsync(ScriptedUpstream upstream)
    {
        await upstream._app.StartAsync();
        upstream.Url = Loopback.AddressOf(upstream._app);
        return upstream;
    }
}
