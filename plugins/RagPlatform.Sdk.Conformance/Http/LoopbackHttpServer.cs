using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Sdk.Conformance.Http;

/// <summary>One request as the server saw it.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>Path and query as sent, e.g. <c>/collections/docs/points?wait=true</c>.</summary>
    public string PathAndQuery => Path + Query;

    public JsonElement Json() => JsonDocument.Parse(Body).RootElement.Clone();

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>What the server answers.</summary>
public sealed record CannedResponse(int Status, string? Body = null, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static CannedResponse Json(int status, string body) => new(status, body);
}

/// <summary>
/// A real HTTP server (Kestrel) on 127.0.0.1 and a free port, in this process, for contract tests of plugins that
/// talk to a remote service: it records every request (method, path, headers, body) and answers through a
/// handler — a fixture replayer or an in-memory emulator. Queued faults are answered first, one per request.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<CannedResponse> _faults = new();

    private LoopbackHttpServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>The next request (after any queued before) gets <paramref name="response"/> instead of reaching the handler.</summary>
    public void EnqueueFault(CannedResponse response) => _faults.Enqueue(response);

    public void ClearRequests() => _requests.Clear();

    public static async Task<LoopbackHttpServer> StartAsync(Func<RecordedRequest, CannedResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            // The emulators enforce the documented limits themselves, so Kestrel must not cut in first.
            options.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        LoopbackHttpServer? server = null;
        app.Run(async context =>
        {
            var recorded = await RecordAsync(context.Request);
            server!._requests.Enqueue(recorded);
            var response = server._faults.TryDequeue(out var fault) ? fault : Safely(handler, recorded);
            context.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            if (response.Body is not null)
            {
                context.Response.ContentType ??= "application/json";
                await context.Response.WriteAsync(response.Body);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server = new LoopbackHttpServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
        return server;
    }

    private static CannedResponse Safely(Func<RecordedRequest, CannedResponse> handler, RecordedRequest request)
    {
        try
        {
            return handler(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A handler bug shows up in the plugin's error message instead of a dropped connection.
            return new CannedResponse(500, JsonSerializer.Serialize(new { emulator_error = e.ToString() }));
        }
    }

    private static async Task<RecordedRequest> RecordAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        return new RecordedRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, headers, body.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
