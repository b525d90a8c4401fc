using System.Net;
using System.Net.Http.Json;
using System.Text.Encodings.Web;
using System.Text.Json;
using RagPlatform.Core.Errors;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Core.IndexOwner;

/// <summary>
/// Calls the index owner's internal API (<see cref="IndexOwnerApi"/>) and turns its answers back into the
/// exceptions the local interfaces throw, so callers cannot tell a remote index from a local one.
/// Every call goes through the host's <see cref="IHttpClientFactory"/> client <see cref="HttpClientName"/>, so the
/// one retry policy (<see cref="RemoteRetry"/>) retries transient failures (every owner write is an idempotent upsert by id) and
/// service discovery resolves an endpoint such as <c>http://query</c>. A failure that outlasts the retries
/// propagates: the bus retries the message, the HTTP caller gets a 5xx.
/// </summary>
public sealed class IndexOwnerClient(IHttpClientFactory httpClients)
{
    /// <summary>The named HttpClient (base address, credentials, timeouts) registered by AddRagPlatformCore.</summary>
    public const string HttpClientName = "RagPlatform.IndexOwner";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The base address of every call: the owner's endpoint and the internal API's path.</summary>
    public static Uri BaseAddress(string endpoint) => new(endpoint.Trim().TrimEnd('/') + "/internal/index/");

    public async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        // Every owner call is a read or an upsert or delete by id: sending it twice changes nothing.
        request.Options.Set(RemoteRetry.Repeatable, true);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        using var http = httpClients.CreateClient(HttpClientName);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response.StatusCode == HttpStatusCode.NoContent
                ? default
                : await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
        }

        IndexOwnerError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<IndexOwnerError>(Json, cancellationToken);
        }
        catch (JsonException)
        {
        }

        throw error?.Kind switch
        {
            IndexOwnerError.Mismatch => new VectorCollectionMismatchException(error.Message),
            IndexOwnerError.CollectionNotFound => new VectorCollectionNotFoundException(error.Collection ?? ""),
            IndexOwnerError.InvalidVector => new InvalidVectorException(error.Message),
            IndexOwnerError.Argument => new ArgumentException(error.Message),
            _ => new UpstreamPluginException(
                $"The index owner answered {(int)response.StatusCode} to {method} {path}" + (error is null ? "." : $": {error.Message}")),
        };
    }

    public Task SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(method, path, body, cancellationToken);

    internal static string Segment(string value) => Uri.EscapeDataString(value);
}

/// <summary>The body of an index owner error: which local exception it stands for.</summary>
public sealed record IndexOwnerError(string Kind, string Message, string? Collection = null)
{
    public const string Mismatch = "mismatch";
    public const string CollectionNotFound = "collection-not-found";
    public const string InvalidVector = "invalid-vector";
    public const string Argument = "argument";
}

/// <summary>Bodies of the internal API.</summary>
public sealed record DocumentReference(string DocumentId);

public sealed record LexicalSearchRequest(string Query, int TopK, VectorFilter? Filter);

public sealed record CountRequest(VectorFilter? Filter);

public sealed record CountResponse(long Count);
