using System.Net.Http.Headers;
using System.Text.Json;

namespace RagPlatform.Sdk.Remote;

/// <summary>Request and response bodies of remote vector services.</summary>
public static class RemoteJson
{
    /// <summary>A JSON body written by <paramref name="write"/>.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>A request carrying <paramref name="body"/> (when not null) as application/json.</summary>
    public static HttpRequestMessage Request(HttpMethod method, Uri uri, byte[]? body)
    {
        var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    /// <summary>A JSON array of numbers (a vector in a response body) as floats.</summary>
    public static float[] ReadFloats(JsonElement array)
    {
        var values = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var value in array.EnumerateArray())
        {
            values[i++] = value.GetSingle();
        }

        return values;
    }

    /// <summary>Parses a successful answer's body.</summary>
    public static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
    }
}
