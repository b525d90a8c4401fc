using RagPlatform.Client;

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

    private readonly InProcessPlatform? _platform;

    private PlatformSession(RagPlatformClient client, InProcessPlatform? platform)
    {
        Client = client;
        _platform = platform;
    }

    public RagPlatformClient Client { get; }

    public Uri Server => Client.BaseAddress;

    public bool InProcess => _platform is not null;

    public static async Task<PlatformSession> OpenAsync(ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var client = CreateClient(settings.Server);
        try
        {
            var timeout = settings.ServerExplicit ? ExplicitProbeTimeout : ImplicitProbeTimeout;
            var failure = await ProbeAsync(client, timeout, cancellationToken);
            if (failure is null)
            {
                return new PlatformSession(client, null);
            }

            if (settings.ServerExplicit)
            {
                throw new CliException(
                    $"no RagPlatform server answers at {Display(settings.Server)} ({failure}). Start one with `rag serve`, " +
                    "or leave out --server (and RAG_SERVER) to run the platform in-process.");
            }

            client.Dispose();
            Console.Error.WriteLine($"no server at {Display(settings.Server)}; running in-process on {settings.DataDirectory}");
            return await StartInProcessAsync(settings.DataDirectory, settings.ConfigurationArguments, cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Always in-process, on a free port (benchmarks: nothing else may share the machine's work).</summary>
    public static async Task<PlatformSession> StartInProcessAsync(string dataDirectory, IReadOnlyList<string> configurationArguments, CancellationToken cancellationToken)
    {
        var platform = await InProcessPlatform.StartAsync(dataDirectory, configurationArguments, cancellationToken);
        return new PlatformSession(CreateClient(platform.Address), platform);
    }

    /// <summary>null when something answered GET /health in time (whatever its report), else why not.</summary>
    private static async Task<string?> ProbeAsync(RagPlatformClient client, TimeSpan timeout, CancellationToken cancellationToken)
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

    /// <summary>The one client of the API (RagPlatform.Client): the key from RAG_API_KEY, its retries of 429 and 503.</summary>
    public static RagPlatformClient CreateClient(Uri server, string? apiKey = null, TimeSpan? timeout = null, int? maxRetries = null)
    {
        var options = new RagPlatformClientOptions
        {
            BaseAddress = server,
            ApiKey = apiKey ?? Environment.GetEnvironmentVariable(ApiKeyVariable),
            // Large batches are chunked and hashed while the POST is open; the caller's token bounds the rest.
            Timeout = timeout ?? TimeSpan.FromMinutes(30),
        };
        if (maxRetries is { } retries)
        {
            options.MaxRetries = retries;
        }

        return RagPlatformClient.Create(options);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }
}
