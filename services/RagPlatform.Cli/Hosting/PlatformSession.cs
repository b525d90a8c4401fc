using RagPlatform.Cli.Client;

namespace RagPlatform.Cli.Hosting;

/// <summary>Who the client commands talk to, as the shared options chose it.</summary>
public sealed record ConnectionSettings(
    Uri Server,
    bool ServerExplicit,
    string DataDirectory,
    IReadOnlyList<string> ConfigurationArguments);

/// <summary>
/// A client connected to a running server, or to an in-process platform started because none answered;
/// disposing it stops the in-process platform.
/// </summary>
public sealed class PlatformSession : IAsyncDisposable
{
    /// <summary>How long an implicit default server gets to answer before the CLI runs the platform itself.</summary>
    public static readonly TimeSpan ImplicitProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A server the user named explicitly is given longer: it may be remote or busy.</summary>
    public static readonly TimeSpan ExplicitProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly InProcessPlatform? _platform;

    private PlatformSession(HttpClient http, InProcessPlatform? platform)
    {
        _http = http;
        _platform = platform;
        Client = new RagClient(http);
    }

    public RagClient Client { get; }

    public Uri Server => _http.BaseAddress!;

    public bool InProcess => _platform is not null;

    public static async Task<PlatformSession> OpenAsync(ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var http = CreateHttpClient(settings.Server);
        try
        {
            var timeout = settings.ServerExplicit ? ExplicitProbeTimeout : ImplicitProbeTimeout;
            var failure = await ProbeAsync(new RagClient(http), timeout, cancellationToken);
            if (failure is null)
            {
                return new PlatformSession(http, null);
            }

            if (settings.ServerExplicit)
            {
                throw new CliException(
                    $"no RagPlatform server answers at {Display(settings.Server)} ({failure}). Start one with `rag serve`, " +
                    "or leave out --server (and RAG_SERVER) to run the platform in-process.");
            }

            http.Dispose();
            Console.Error.WriteLine($"no server at {Display(settings.Server)}; running in-process on {settings.DataDirectory}");
            return await StartInProcessAsync(settings.DataDirectory, settings.ConfigurationArguments, cancellationToken);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>Always in-process, on a free port (benchmarks: nothing else may share the machine's work).</summary>
    public static async Task<PlatformSession> StartInProcessAsync(string dataDirectory, IReadOnlyList<string> configurationArguments, CancellationToken cancellationToken)
    {
        var platform = await InProcessPlatform.StartAsync(dataDirectory, configurationArguments, cancellationToken);
        return new PlatformSession(CreateHttpClient(platform.Address), platform);
    }

    /// <summary>null when something answered GET /health in time (whatever its report), else why not.</summary>
    private static async Task<string?> ProbeAsync(RagClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await client.GetHealthAsync(deadline.Token);
            return null;
        }
        catch (HttpRequestException ex)
        {
            return ex.InnerException?.Message ?? ex.Message;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer to GET /health within {timeout.TotalSeconds:0.#} s";
        }
    }

    private static string Display(Uri server) => server.AbsolutePath == "/" ? server.AbsoluteUri.TrimEnd('/') : server.AbsoluteUri;

    /// <summary>The API key the commands send (servers with RagPlatform:Security:Keys configured require one).</summary>
    public const string ApiKeyVariable = "RAG_API_KEY";

    private static HttpClient CreateHttpClient(Uri server)
    {
        var http = new HttpClient
        {
            // A trailing slash makes relative paths resolve under a path prefix (a server behind a reverse proxy).
            BaseAddress = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/"),
            // Large batches are chunked and hashed while the POST is open; the caller's token bounds the rest.
            Timeout = TimeSpan.FromMinutes(30),
        };
        if (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Trim());
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }
}
