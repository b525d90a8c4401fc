using System.Data.Common;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// A remote service's address and key in Aspire's connection-string form, <c>Endpoint=http://host:port;Key=…</c>
/// (what <c>ConnectionStrings__&lt;name&gt;_http</c> holds for Qdrant). <see cref="ToString"/> never shows the key.
/// </summary>
public sealed class ServiceConnectionString
{
    private ServiceConnectionString(Uri endpoint, string? key)
    {
        Endpoint = endpoint;
        Key = key;
    }

    public Uri Endpoint { get; }

    /// <summary>The API key, or null when the service runs without one. A secret: never log it.</summary>
    public string? Key { get; }

    /// <summary>Parses <c>Endpoint=…;Key=…</c> (key optional; also accepts a bare absolute URL).</summary>
    /// <exception cref="FormatException">With a message that names the problem but never repeats the key.</exception>
    public static ServiceConnectionString Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var bare) && bare.Scheme is "http" or "https")
        {
            return new ServiceConnectionString(bare, null);
        }

        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            // The parser's own message quotes the text, key included.
            throw new FormatException("The connection string is not in the form 'Endpoint=http://host:port;Key=…'.");
        }

        if (!builder.TryGetValue("Endpoint", out var endpointValue) || endpointValue is not string endpointText
            || !Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new FormatException("The connection string needs 'Endpoint=' with an absolute http:// or https:// URL.");
        }

        var key = builder.TryGetValue("Key", out var keyValue) && keyValue is string k && k.Length > 0 ? k : null;
        return new ServiceConnectionString(endpoint, key);
    }

    /// <summary>The host's connection string named <paramref name="name"/>, or null when it is not set.</summary>
    /// <exception cref="FormatException">It is set but is not <c>Endpoint=…;Key=…</c>.</exception>
    public static ServiceConnectionString? FromContext(PluginContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetConnectionString(name) is { } text ? Parse(text) : null;
    }

    public override string ToString() => $"Endpoint={Endpoint};Key={(Key is null ? "(none)" : "***")}";
}
