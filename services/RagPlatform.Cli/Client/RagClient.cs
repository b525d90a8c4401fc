using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Client;

/// <summary>The health endpoint's answer: any HTTP answer means a server is there, whatever it reports.</summary>
public sealed record HealthResult(int Status, string Report)
{
    public bool IsHealthy => Status is >= 200 and < 300;
}

/// <summary>
/// Typed access to the RagPlatform HTTP contract. Every non-success answer becomes a
/// <see cref="RagApiException"/> built from the problem details, so callers never parse error bodies.
/// </summary>
public sealed class RagClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private readonly HttpClient _http;

    /// <param name="http">An HttpClient whose BaseAddress is the server root; the client does not own it.</param>
    public RagClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress);
        _http = http;
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<HealthResult> GetHealthAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri("health", UriKind.Relative), cancellationToken);
        var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        return new HealthResult((int)response.StatusCode, body.Length > 0 ? body : response.ReasonPhrase ?? response.StatusCode.ToString());
    }

    public Task<CollectionList> ListCollectionsAsync(CancellationToken cancellationToken) =>
        SendAsync<CollectionList>(HttpMethod.Get, "v1/collections", null, cancellationToken);

    public Task<CollectionStats> GetCollectionAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<CollectionStats>(HttpMethod.Get, CollectionPath(name), null, cancellationToken);

    public Task<CollectionStats> PutCollectionAsync(string name, CollectionSettingsInput settings, CancellationToken cancellationToken) =>
        SendAsync<CollectionStats>(HttpMethod.Put, CollectionPath(name), JsonContent.Create(settings, options: CliJson.Options), cancellationToken);

    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken)
    {
        var path = CollectionPath(name);
        using var response = await _http.DeleteAsync(new Uri(path, UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, "DELETE", path, cancellationToken);
    }

    /// <summary>Posts a batch that is already a serialised JSON array of documents (UTF-8).</summary>
    public Task<JobAccepted> PostDocumentsAsync(string collection, ReadOnlyMemory<byte> jsonArray, CancellationToken cancellationToken)
    {
        var content = new ReadOnlyMemoryContent(jsonArray);
        content.Headers.ContentType = JsonContentType;
        return SendAsync<JobAccepted>(HttpMethod.Post, CollectionPath(collection) + "/documents", content, cancellationToken);
    }

    public Task<JobAccepted> PostDocumentsAsync(string collection, IReadOnlyList<DocumentInput> documents, CancellationToken cancellationToken) =>
        PostDocumentsAsync(collection, JsonSerializer.SerializeToUtf8Bytes(documents, CliJson.Options), cancellationToken);

    /// <summary>
    /// Posts files as multipart/form-data (one 'files' part each, named by its document id) for the server to parse;
    /// each is read from disk as the request is sent.
    /// </summary>
    public Task<FilesAccepted> PostFilesAsync(string collection, IReadOnlyList<(string Path, string Name)> files, CancellationToken cancellationToken)
    {
        var content = new MultipartFormDataContent();
        foreach (var (path, name) in files)
        {
            var part = new StreamContent(File.OpenRead(path));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            // The name travels as an RFC 5987 filename* too, so non-ASCII (Korean) names arrive intact.
            content.Add(part, "files", name);
        }

        return SendAsync<FilesAccepted>(HttpMethod.Post, CollectionPath(collection) + "/files", content, cancellationToken);
    }

    /// <summary>One page of the collection's documents, after <paramref name="after"/> in id order.</summary>
    public Task<DocumentList> ListDocumentsAsync(string collection, string? after, int limit, CancellationToken cancellationToken) =>
        SendAsync<DocumentList>(HttpMethod.Get,
            CollectionPath(collection) + "/documents?limit=" + limit.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after)), null, cancellationToken);

    /// <summary>Every document id the collection holds, page by page.</summary>
    public async Task<List<string>> ListAllDocumentIdsAsync(string collection, CancellationToken cancellationToken)
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

    /// <summary>Deletes a document; false when the collection does not hold it (404).</summary>
    public async Task<bool> DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken)
    {
        // Each path segment escaped on its own: ids made from files are paths ("reports/2024/q1.pdf"). A "." or ".."
        // segment would be resolved away by URI normalisation and name another document: refused instead.
        if (id.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new CliException($"document '{id}' cannot be addressed in a URL path (an empty, '.' or '..' segment); delete it over the API with its exact id.");
        }

        var path = CollectionPath(collection) + "/documents/" + string.Join('/', id.Split('/').Select(Uri.EscapeDataString));
        using var response = await _http.DeleteAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, "DELETE", path, cancellationToken);
        return true;
    }

    public Task<ReindexAccepted> ReindexAsync(string collection, ReindexRequest request, CancellationToken cancellationToken) =>
        SendAsync<ReindexAccepted>(HttpMethod.Post, CollectionPath(collection) + "/reindex", JsonContent.Create(request, options: CliJson.Options), cancellationToken);

    public Task<JobStatus> GetJobAsync(Guid jobId, CancellationToken cancellationToken) =>
        SendAsync<JobStatus>(HttpMethod.Get, "v1/jobs/" + jobId.ToString("D"), null, cancellationToken);

    public Task<SearchResponse> SearchAsync(string collection, SearchRequest request, CancellationToken cancellationToken) =>
        SendAsync<SearchResponse>(HttpMethod.Post, CollectionPath(collection) + "/search", JsonContent.Create(request, options: CliJson.Options), cancellationToken);

    /// <summary>Embedding spend and provider usage; null when the server has no embedding worker (404).</summary>
    public async Task<ProviderUsageResponse?> GetProviderUsageAsync(CancellationToken cancellationToken)
    {
        const string path = "v1/providers/usage";
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "GET", path, cancellationToken);
        return await response.Content.ReadFromJsonAsync<ProviderUsageResponse>(CliJson.Options, cancellationToken);
    }

    /// <summary>Cache hits and misses per kind and tier in the server's process; null when it has no such endpoint (404).</summary>
    public async Task<CacheStatsResponse?> GetCacheStatsAsync(CancellationToken cancellationToken)
    {
        const string path = "v1/cache/stats";
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "GET", path, cancellationToken);
        return await response.Content.ReadFromJsonAsync<CacheStatsResponse>(CliJson.Options, cancellationToken);
    }

    private static string CollectionPath(string name) => "v1/collections/" + Uri.EscapeDataString(name);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, method.Method, path, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(CliJson.Options, cancellationToken)
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
                problem = JsonSerializer.Deserialize<ProblemBody>(body, CliJson.Options);
            }
            catch (JsonException)
            {
                // Not problem details after all: fall back to the raw text below.
            }
        }

        var title = problem?.Title ?? response.ReasonPhrase ?? "The request failed";
        var detail = problem is null ? Shorten(body) : problem.Detail;
        throw new RagApiException(method, "/" + path, status, title, detail, problem?.Errors ?? new Dictionary<string, string[]>());
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

    /// <summary>The parts of RFC 7807 problem details (and ASP.NET's validation extension) the CLI shows.</summary>
    private sealed record ProblemBody(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);
}
