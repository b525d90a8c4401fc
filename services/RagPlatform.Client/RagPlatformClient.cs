using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Client;

/// <summary>The health endpoint's answer: any HTTP answer means a server is there, whatever it reports.</summary>
public sealed record HealthResult(int Status, string Report)
{
    public bool IsHealthy => Status is >= 200 and < 300;
}

/// <summary>A file to upload: its path on disk and the document id (name) it gets in the collection.</summary>
public sealed record UploadFile(string Path, string Name);

/// <summary>
/// Typed access to the RagPlatform HTTP contract (docs/openapi/). Every non-success answer becomes a
/// <see cref="RagApiException"/> built from the problem details, so callers never parse error bodies. Thread-safe;
/// register it with <c>services.AddRagPlatformClient(...)</c> or make one with <see cref="Create"/>.
/// </summary>
public sealed class RagPlatformClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="http">An HttpClient whose BaseAddress is the server root, as <c>IHttpClientFactory</c> hands a typed client
    /// (the caller owns it).</param>
    public RagPlatformClient(HttpClient http)
        : this(http, ownsHttp: false)
    {
    }

    private RagPlatformClient(HttpClient http, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(http.BaseAddress);
        _http = http;
        _ownsHttp = ownsHttp;
    }

    /// <summary>A client with its own HttpClient (pooled connections, the retry strategy of <see cref="RagPlatformRetry"/>),
    /// for code without a service container; dispose it when done.</summary>
    public static RagPlatformClient Create(RagPlatformClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new ResilienceHandler(RagPlatformRetry.CreatePipeline(options))
        {
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
        };
        var http = new HttpClient(handler, disposeHandler: true);
        try
        {
            RagPlatformClientExtensions.Configure(http, options);
            return new RagPlatformClient(http, ownsHttp: true);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<HealthResult> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri("health", UriKind.Relative), cancellationToken);
        var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        return new HealthResult((int)response.StatusCode, body.Length > 0 ? body : response.ReasonPhrase ?? response.StatusCode.ToString());
    }

    // ---- Collections

    public Task<CollectionList> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CollectionList>(HttpMethod.Get, "v1/collections", null, cancellationToken);

    public Task<CollectionStats> GetCollectionAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<CollectionStats>(HttpMethod.Get, CollectionPath(name), null, cancellationToken);

    /// <summary>Creates the collection with these settings, or answers its stats when it exists.</summary>
    public Task<CollectionStats> PutCollectionAsync(string name, CollectionSettingsInput settings, CancellationToken cancellationToken = default) =>
        SendAsync<CollectionStats>(HttpMethod.Put, CollectionPath(name), JsonContent.Create(settings, options: RagJson.Options), cancellationToken);

    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = CollectionPath(name);
        using var response = await _http.DeleteAsync(new Uri(path, UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, "DELETE", path, cancellationToken);
    }

    public Task<ReindexAccepted> ReindexAsync(string collection, ReindexRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<ReindexAccepted>(HttpMethod.Post, CollectionPath(collection) + "/reindex", JsonContent.Create(request, options: RagJson.Options), cancellationToken);

    // ---- Documents and files

    /// <summary>Posts a batch that is already a serialised JSON array of documents (UTF-8).</summary>
    public Task<JobAccepted> PostDocumentsAsync(string collection, ReadOnlyMemory<byte> jsonArray, CancellationToken cancellationToken = default)
    {
        var content = new ReadOnlyMemoryContent(jsonArray);
        content.Headers.ContentType = JsonContentType;
        return SendAsync<JobAccepted>(HttpMethod.Post, CollectionPath(collection) + "/documents", content, cancellationToken);
    }

    public Task<JobAccepted> PostDocumentsAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken = default) =>
        PostDocumentsAsync(collection, JsonSerializer.SerializeToUtf8Bytes(documents, RagJson.Options), cancellationToken);

    /// <summary>
    /// Posts files as multipart/form-data (one 'files' part each, named by its document id) for the server to parse;
    /// each is read from disk as the request is sent, so the upload is not retried (a 429 is then the caller's to repeat).
    /// </summary>
    public Task<FilesAccepted> PostFilesAsync(string collection, IReadOnlyList<UploadFile> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var content = new MultipartFormDataContent();
        foreach (var file in files)
        {
            var part = new StreamContent(File.OpenRead(file.Path));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            // The name travels as an RFC 5987 filename* too, so non-ASCII (Korean) names arrive intact.
            content.Add(part, "files", file.Name);
        }

        return SendAsync<FilesAccepted>(HttpMethod.Post, CollectionPath(collection) + "/files", content, cancellationToken, repeatable: false);
    }

    /// <summary>One page of the collection's documents, after <paramref name="after"/> in id order.</summary>
    public Task<DocumentList> ListDocumentsAsync(string collection, string? after = null, int limit = 1_000, CancellationToken cancellationToken = default) =>
        SendAsync<DocumentList>(HttpMethod.Get,
            CollectionPath(collection) + "/documents?limit=" + limit.ToString(CultureInfo.InvariantCulture)
            + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after)), null, cancellationToken);

    /// <summary>Every document id the collection holds, page by page.</summary>
    public async Task<List<string>> ListAllDocumentIdsAsync(string collection, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        string? after = null;
        do
        {
            var page = await ListDocumentsAsync(collection, after, 10_000, cancellationToken);
            ids.AddRange(page.Documents.Select(d => d.Id));
            after = page.Next;
        }
        while (after is not null);
        return ids;
    }

    /// <summary>Whether a document id can be addressed in a URL path: an empty, "." or ".." segment cannot (URI
    /// normalisation would resolve it away and name another document).</summary>
    public static bool IsAddressable(string documentId) =>
        !string.IsNullOrEmpty(documentId) && !documentId.Split('/').Any(segment => segment is "" or "." or "..");

    /// <summary>Deletes a document; false when the collection does not hold it (404).</summary>
    /// <exception cref="ArgumentException">The id has an empty, "." or ".." path segment (<see cref="IsAddressable"/>).</exception>
    public async Task<bool> DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        if (!IsAddressable(id))
        {
            throw new ArgumentException($"document '{id}' cannot be addressed in a URL path (an empty, '.' or '..' segment).", nameof(id));
        }

        // Each path segment escaped on its own: ids made from files are paths ("reports/2024/q1.pdf").
        var path = CollectionPath(collection) + "/documents/" + string.Join('/', id.Split('/').Select(Uri.EscapeDataString));
        using var response = await _http.DeleteAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, "DELETE", path, cancellationToken);
        return true;
    }

    // ---- Jobs

    public Task<JobStatus> GetJobAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatus>(HttpMethod.Get, "v1/jobs/" + jobId.ToString("D"), null, cancellationToken);

    /// <summary>
    /// Polls a job until it is final (completed, completed with errors, or failed) and returns its last status;
    /// <paramref name="progress"/> sees every status read on the way.
    /// </summary>
    public async Task<JobStatus> WaitForJobAsync(
        Guid jobId, IProgress<JobStatus>? progress = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var status = await GetJobAsync(jobId, cancellationToken);
            progress?.Report(status);
            if (JobStates.IsFinal(status.State))
            {
                return status;
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    // ---- Query

    public Task<SearchResponse> SearchAsync(string collection, SearchRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<SearchResponse>(HttpMethod.Post, CollectionPath(collection) + "/search", JsonContent.Create(request, options: RagJson.Options), cancellationToken);

    /// <summary>Searches and packs the best documents into one context text within the request's budget.</summary>
    public Task<ContextResponse> BuildContextAsync(string collection, ContextRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<ContextResponse>(HttpMethod.Post, CollectionPath(collection) + "/context", JsonContent.Create(request, options: RagJson.Options), cancellationToken);

    // ---- Operations

    /// <summary>Embedding spend and provider usage; null when the server has no embedding worker (404).</summary>
    public Task<ProviderUsageResponse?> GetProviderUsageAsync(CancellationToken cancellationToken = default) =>
        GetOptionalAsync<ProviderUsageResponse>("v1/providers/usage", cancellationToken);

    /// <summary>Cache hits and misses per kind and tier in the server's process; null when it has no such endpoint (404).</summary>
    public Task<CacheStatsResponse?> GetCacheStatsAsync(CancellationToken cancellationToken = default) =>
        GetOptionalAsync<CacheStatsResponse>("v1/cache/stats", cancellationToken);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static string CollectionPath(string name) => "v1/collections/" + Uri.EscapeDataString(name);

    private async Task<T?> GetOptionalAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "GET", path, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(RagJson.Options, cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, bool repeatable = true)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        if (!repeatable)
        {
            request.Options.Set(RagPlatformRetry.NotRepeatable, true);
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, method.Method, path, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(RagJson.Options, cancellationToken)
            ?? throw new InvalidDataException($"{method} /{path} answered {(int)response.StatusCode} without a body.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string method, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        ProblemBody? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is { } media && media.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemBody>(body, RagJson.Options);
            }
            catch (JsonException)
            {
                // Not problem details after all: fall back to the raw text below.
            }
        }

        var title = problem?.Title ?? response.ReasonPhrase ?? "The request failed";
        var detail = problem is null ? Shorten(body) : problem.Detail;
        throw new RagApiException(method, "/" + path, status, title, detail, problem?.Errors ?? new Dictionary<string, string[]>(),
            RagPlatformRetry.RetryAfter(response));
    }

    private static string? Shorten(string body)
    {
        body = body.Trim();
        return body.Length switch
        {
            0 => null,
            > 300 => body[..300] + "…",
            _ => body,
        };
    }

    /// <summary>The parts of RFC 7807 problem details (and ASP.NET's validation extension) the client reports.</summary>
    private sealed record ProblemBody(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);
}
