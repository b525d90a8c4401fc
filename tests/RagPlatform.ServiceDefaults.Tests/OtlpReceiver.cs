using System.Collections.Concurrent;
using System.Net;

namespace RagPlatform.ServiceDefaults.Tests;

/// <summary>
/// A loopback OTLP/HTTP receiver: accepts POST /v1/traces, /v1/metrics and /v1/logs (http/protobuf) and keeps
/// what arrived. HttpListener rather than Kestrel, so the receiver emits no ASP.NET Core spans of its own that
/// the service under test would trace and export back to it.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        // HttpListener cannot listen on port 0 and report the port it got.
        Endpoint = new Uri($"http://127.0.0.1:{Loopback.FreePort()}");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<ReceivedExport> Received { get; } = new();

    public IReadOnlyList<ReceivedExport> For(string path) => Received.Where(r => r.Path == path).ToList();

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Received.Enqueue(new ReceivedExport(
                context.Request.HttpMethod,
                context.Request.Url!.AbsolutePath,
                context.Request.ContentType ?? string.Empty,
                context.Request.Headers["x-otlp-api-key"],
                body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.ContentLength64 = 0;
            context.Response.Close();
        }
    }
}

public sealed record ReceivedExport(string Method, string Path, string ContentType, string? ApiKey, byte[] Body)
{
    /// <summary>Protobuf carries strings as raw UTF-8, so a name or message can be found in the bytes.</summary>
    public bool Contains(string text) => Body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;
}
