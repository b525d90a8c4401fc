using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RagPlatform.ModelHub.Tests;

/// <summary>
/// A loopback stand-in for the Hugging Face hub (or a mirror): GET /{org}/{name}/resolve/{revision}/{file} serves
/// files with Range support; it can demand a Bearer token, answer 429 with Retry-After, cut a body in the middle,
/// or never answer. Every request is recorded.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;
    private readonly CancellationTokenSource stop = new();

    public FakeHub()
    {
        // A free port: bind port 0, read it, release it, listen on it.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Path after "/" (e.g. "org/model/resolve/main/config.json") → content.</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    public ConcurrentQueue<(string Path, string? Range, string? Authorization)> Requests { get; } = new();

    public string? RequiredToken { get; set; }

    /// <summary>Path → how many more times to answer 429 (with <see cref="RetryAfterSeconds"/>).</summary>
    public ConcurrentDictionary<string, int> RateLimited { get; } = new();

    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Path → how many bytes to send before cutting the connection (once).</summary>
    public ConcurrentDictionary<string, int> CutAfter { get; } = new();

    /// <summary>Paths that never get an answer.</summary>
    public ConcurrentDictionary<string, bool> Hang { get; } = new();

    public void AddModel(string repository, string revision = "main", bool rootModel = false)
    {
        string prefix = $"{repository}/resolve/{revision}/";
        Files[prefix + (rootModel ? "model.onnx" : "onnx/model.onnx")] = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        Files[prefix + "tokenizer.json"] = Encoding.UTF8.GetBytes("""{"model":{"type":"WordPiece","vocab":{}}}""");
        Files[prefix + "config.json"] = Encoding.UTF8.GetBytes("""{"hidden_size": 384}""");
        Files[prefix + "1_Pooling/config.json"] = Encoding.UTF8.GetBytes("""{"pooling_mode_mean_tokens": true}""");
    }

    public int CountRequests(string pathSuffix) => Requests.Count(r => r.Path.EndsWith(pathSuffix, StringComparison.Ordinal));

    private int disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        stop.Cancel();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = Uri.UnescapeDataString(request.Url!.AbsolutePath.TrimStart('/'));
        Requests.Enqueue((path, request.Headers["Range"], request.Headers["Authorization"]));
        try
        {
            if (Hang.ContainsKey(path))
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }

            if (RequiredToken is not null && request.Headers["Authorization"] != $"Bearer {RequiredToken}")
            {
                response.StatusCode = 401;
                response.Close();
                return;
            }

            if (RateLimited.TryGetValue(path, out int left) && left > 0)
            {
                RateLimited[path] = left - 1;
                response.StatusCode = 429;
                response.AddHeader("Retry-After", RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                response.Close();
                return;
            }

            if (!Files.TryGetValue(path, out var content))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }

            int start = 0;
            if (request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
            {
                start = int.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}");
            }

            response.ContentLength64 = content.Length - start;
            if (CutAfter.TryRemove(path, out int cut))
            {
                await response.OutputStream.WriteAsync(content.AsMemory(start, cut));
                await response.OutputStream.FlushAsync();
                response.Abort(); // the connection drops mid-body
                return;
            }

            await response.OutputStream.WriteAsync(content.AsMemory(start));
            response.Close();
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
