using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.ModelHub;

/// <summary>
/// Turns a model reference into a local folder in the Hugging Face layout: a local folder is used as it is; a hub
/// id ("intfloat/multilingual-e5-small") is served from the cache when complete, else downloaded into
/// {cache}/models--{org}--{name}/snapshots/{revision}/. Thread-safe; one download per model at a time per process.
/// </summary>
public sealed partial class ModelResolver : IDisposable
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    private readonly ModelHubOptions options;
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ILogger logger;
    private readonly ResiliencePipeline retry;

    /// <param name="httpClient">Optional (the host's, from <c>PluginContext.CreateHttpClient</c>); its Timeout is not relied
    /// on (each request has its own).</param>
    /// <param name="ownsHttpClient">Dispose <paramref name="httpClient"/> with the resolver.</param>
    public ModelResolver(ModelHubOptions options, HttpClient? httpClient = null, ILogger<ModelResolver>? logger = null, bool ownsHttpClient = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ModelHub MaxAttempts must be at least 1.");
        }

        this.options = options;
        ownsHttp = httpClient is null || ownsHttpClient;
        http = httpClient ?? new HttpClient(new SocketsHttpHandler { ConnectTimeout = options.RequestTimeout });
        if (ownsHttp)
        {
            http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        }
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        // The one retry policy of remote calls; a caller's cancellation stops it, the overall Timeout too.
        retry = RemoteRetry.CreatePipeline(
            options.ToRetryOptions(), "ModelHub", IsTransient, e => (e as TransientFetchException)?.RetryAfter, this.logger);
    }

    /// <summary>The local folder holding the model.</summary>
    /// <param name="modelIdOrPath">A folder path, or a hub id "org/name" (or "name").</param>
    /// <param name="revision">Branch, tag or commit for hub ids; default "main".</param>
    /// <exception cref="ModelUnavailableException">The model cannot be had; the message says what to set.</exception>
    public async Task<string> ResolveAsync(string modelIdOrPath, string? revision = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrPath);
        if (Directory.Exists(modelIdOrPath))
        {
            string folder = Path.GetFullPath(modelIdOrPath);
            if (!ModelFiles.IsComplete(folder))
            {
                throw new ModelUnavailableException(
                    $"The model folder '{folder}' lacks {string.Join(", ", ModelFiles.Missing(folder))} (Hugging Face layout expected).");
            }

            return folder;
        }

        if (!RepositoryId().IsMatch(modelIdOrPath) || modelIdOrPath.Contains("..", StringComparison.Ordinal))
        {
            throw new ModelUnavailableException(
                $"'{modelIdOrPath}' is neither an existing model folder nor a hub id like 'intfloat/multilingual-e5-small': set the model path to a local folder in the Hugging Face layout, or to a hub id.");
        }

        revision = string.IsNullOrWhiteSpace(revision) ? "main" : revision.Trim();
        if (revision.Contains("..", StringComparison.Ordinal) || revision.IndexOfAny(['\\', ':']) >= 0)
        {
            throw new ModelUnavailableException($"Revision '{revision}' is not a branch, tag or commit.");
        }

        string snapshot = SnapshotFolder(modelIdOrPath, revision);
        if (ModelFiles.IsComplete(snapshot))
        {
            return snapshot;
        }

        if (options.UseHuggingFaceCache && HuggingFaceSnapshot(modelIdOrPath, revision) is { } existing)
        {
            return existing;
        }

        if (options.Offline)
        {
            throw new ModelUnavailableException(
                $"Model '{modelIdOrPath}' (revision {revision}) is not in the cache '{options.ResolveCacheDirectory()}' and offline mode is on " +
                $"({ModelHubOptions.SectionName}:Offline / HF_HUB_OFFLINE): put the model there, set the model path to a local folder, or turn offline mode off.");
        }

        var gate = Locks.GetOrAdd(snapshot, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ModelFiles.IsComplete(snapshot))
            {
                return snapshot; // another caller finished it while we waited
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.Timeout);
            try
            {
                await DownloadAsync(modelIdOrPath, revision, snapshot, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ModelUnavailableException(
                    $"Downloading '{modelIdOrPath}' from {options.ResolveEndpoint()} took longer than {ModelHubOptions.SectionName}:Timeout ({options.Timeout}); " +
                    "what was fetched is kept and resumes next time. Set a mirror Endpoint, a local model path, or a longer Timeout.");
            }

            return snapshot;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The cache folder a hub model and revision download into (it may not exist yet).</summary>
    public string SnapshotFolder(string repositoryId, string revision = "main") =>
        Path.Combine(options.ResolveCacheDirectory(), "models--" + repositoryId.Replace("/", "--", StringComparison.Ordinal), "snapshots", SafeRevision(revision));

    public void Dispose()
    {
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    private async Task DownloadAsync(string repository, string revision, string snapshot, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(snapshot);
        logger.LogInformation("Downloading model {Model} (revision {Revision}) from {Endpoint} into {Folder}",
            repository, revision, options.ResolveEndpoint(), snapshot);

        string? model = null;
        foreach (string candidate in ModelFiles.ModelCandidates)
        {
            if (await FetchAsync(repository, revision, candidate, snapshot, optional: true, cancellationToken).ConfigureAwait(false))
            {
                model = candidate;
                break;
            }
        }

        if (model is null)
        {
            throw new ModelUnavailableException(
                $"Model '{repository}' (revision {revision}) at {options.ResolveEndpoint()} has no ONNX graph ({string.Join(" or ", ModelFiles.ModelCandidates)}): " +
                "pick a repository with an ONNX export, or set the model path to a local folder holding one.");
        }

        // Models over 2 GB keep their weights beside the graph.
        await FetchAsync(repository, revision, model + "_data", snapshot, optional: true, cancellationToken).ConfigureAwait(false);
        foreach (string file in ModelFiles.Required)
        {
            await FetchAsync(repository, revision, file, snapshot, optional: false, cancellationToken).ConfigureAwait(false);
        }

        foreach (string file in ModelFiles.Optional)
        {
            await FetchAsync(repository, revision, file, snapshot, optional: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>False when an optional file does not exist (404).</returns>
    private async Task<bool> FetchAsync(string repository, string revision, string file, string snapshot, bool optional, CancellationToken cancellationToken)
    {
        string target = Path.Combine(snapshot, file.Replace('/', Path.DirectorySeparatorChar));
        if (File.Exists(target))
        {
            return true;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string part = target + ".part";
        var url = FileUrl(repository, revision, file);
        var clock = Stopwatch.StartNew();
        int attempts = 0;
        try
        {
            return await retry.ExecuteAsync(
                async token =>
                {
                    attempts++;
                    var outcome = await TryFetchOnceAsync(url, part, token).ConfigureAwait(false);
                    switch (outcome.Status)
                    {
                        case FetchStatus.Done:
                            File.Move(part, target, overwrite: true);
                            logger.LogInformation("Fetched {File} ({Bytes} bytes) in {Elapsed} ms", file, new FileInfo(target).Length, clock.ElapsedMilliseconds);
                            return true;
                        case FetchStatus.NotFound when optional:
                            return false;
                        case FetchStatus.NotFound:
                            throw new ModelUnavailableException(
                                $"{url} answered 404: model '{repository}' revision '{revision}' has no {file} there. Check the model id and revision, " +
                                $"or the mirror ({ModelHubOptions.SectionName}:Endpoint / HF_ENDPOINT), or set the model path to a local folder.");
                        case FetchStatus.Unauthorized:
                            throw new ModelUnavailableException(
                                $"{url} answered {outcome.Code}: model '{repository}' is gated or private, or the token is wrong. " +
                                (options.Token is null
                                    ? $"Set {ModelHubOptions.SectionName}:Token (or HF_TOKEN) to an access token that may read it."
                                    : $"The configured {ModelHubOptions.SectionName}:Token was refused; use one that may read this model."));
                        case FetchStatus.Retry when outcome.RetryAfter is { } asked && asked > options.MaxRetryDelay:
                            // The hub will not serve this client before then: waiting less is pointless, longer not allowed.
                            throw new ModelUnavailableException(
                                $"{url} answered {outcome.Code} and asks to wait {asked.TotalSeconds:F0} s (Retry-After), longer than {ModelHubOptions.SectionName}:MaxRetryDelay ({options.MaxRetryDelay.TotalSeconds:F0} s). " +
                                $"The hub is rate-limiting: set {ModelHubOptions.SectionName}:Token (authenticated limits are higher), a mirror Endpoint, or a local model path.");
                        default:
                            throw new TransientFetchException($"{url} answered {outcome.Code}", outcome.RetryAfter);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested)
        {
            string failure = exception is TransientFetchException ? exception.Message : $"{url} failed: {exception.Message}";
            throw new ModelUnavailableException(
                $"{failure}; gave up after {attempts} attempts ({ModelHubOptions.SectionName}:MaxAttempts). " +
                $"Check the network or set a mirror ({ModelHubOptions.SectionName}:Endpoint / HF_ENDPOINT), offline mode with a filled cache, or a local model path.");
        }
    }

    /// <summary>A failure worth another attempt: a retryable answer, a broken or stalled transfer.</summary>
    private static bool IsTransient(Exception exception) =>
        exception is TransientFetchException or HttpRequestException or IOException or OperationCanceledException;

    /// <summary>An answer worth another attempt (429, 5xx, 416), with what its Retry-After asks for.</summary>
    private sealed class TransientFetchException(string message, TimeSpan? retryAfter) : Exception(message)
    {
        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    private async Task<FetchOutcome> TryFetchOnceAsync(Uri url, string part, CancellationToken cancellationToken)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (options.Token is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(options.RequestTimeout);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
        int code = (int)response.StatusCode;
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound:
                return new FetchOutcome(FetchStatus.NotFound, code, null);
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                return new FetchOutcome(FetchStatus.Unauthorized, code, null);
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                File.Delete(part); // the partial file no longer fits the remote one: start over
                return new FetchOutcome(FetchStatus.Retry, code, TimeSpan.Zero);
            case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable:
                return new FetchOutcome(FetchStatus.Retry, code, RemoteRetry.RetryAfter(response));
        }

        if (!response.IsSuccessStatusCode)
        {
            return new FetchOutcome(FetchStatus.Retry, code, null);
        }

        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        long? expected = response.Content.Headers.ContentLength is { } length ? length + (resumed ? have : 0) : null;
        await using (var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        await using (var body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false))
        {
            var buffer = new byte[1 << 16];
            while (true)
            {
                stall.CancelAfter(options.RequestTimeout); // a stall, not a slow download, is what times out
                int read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await output.WriteAsync(buffer.AsMemory(0, read), stall.Token).ConfigureAwait(false);
            }
        }

        long got = new FileInfo(part).Length;
        if (expected is { } total && got != total)
        {
            throw new IOException($"the body ended after {got} of {total} bytes");
        }

        return new FetchOutcome(FetchStatus.Done, code, null);
    }

    private Uri FileUrl(string repository, string revision, string file)
    {
        string path = string.Join('/', repository.Split('/').Select(Uri.EscapeDataString)) + "/resolve/" +
            Uri.EscapeDataString(revision) + "/" + string.Join('/', file.Split('/').Select(Uri.EscapeDataString));
        return new Uri(options.ResolveEndpoint(), path);
    }

    private static string? HuggingFaceSnapshot(string repository, string revision)
    {
        string? cache = ModelHubOptions.HuggingFaceCacheDirectory();
        if (cache is null)
        {
            return null;
        }

        string repo = Path.Combine(cache, "models--" + repository.Replace("/", "--", StringComparison.Ordinal));
        string reference = Path.Combine(repo, "refs", revision);
        string commit = File.Exists(reference) ? File.ReadAllText(reference).Trim() : revision;
        string snapshot = Path.Combine(repo, "snapshots", SafeRevision(commit));
        return ModelFiles.IsComplete(snapshot) ? snapshot : null;
    }

    private static string SafeRevision(string revision) => revision.Replace('/', '_');

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")]
    private static partial Regex RepositoryId();

    private enum FetchStatus
    {
        Done,
        NotFound,
        Unauthorized,
        Retry,
    }

    private readonly record struct FetchOutcome(FetchStatus Status, int Code, TimeSpan? RetryAfter);
}
