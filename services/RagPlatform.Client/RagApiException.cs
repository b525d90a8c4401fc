using System.Text;

namespace RagPlatform.Client;

/// <summary>
/// A non-success answer of the RagPlatform HTTP API, carrying the RFC 7807 problem details the server sent,
/// so callers can show what to fix and tell which documents of a batch were refused.
/// </summary>
public sealed class RagApiException : Exception
{
    public RagApiException(
        string method, string path, int status, string title, string? detail, IReadOnlyDictionary<string, string[]> errors, TimeSpan? retryAfter = null)
        : base(Describe(method, path, status, title, detail, errors))
    {
        RetryAfter = retryAfter;
        Method = method;
        Path = path;
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors;
    }

    public string Method { get; }

    public string Path { get; }

    /// <summary>The HTTP status (after retries, for 429 and 503).</summary>
    public int Status { get; }

    public string Title { get; }

    public string? Detail { get; }

    /// <summary>How long the server asked the caller to wait (429, 503) when the client's retries ran out.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Field (JSON path such as <c>$[3].text</c>) to messages, for validation problems.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    private static string Describe(string method, string path, int status, string title, string? detail, IReadOnlyDictionary<string, string[]> errors)
    {
        var text = new StringBuilder(title.TrimEnd('.'));
        if (!string.IsNullOrWhiteSpace(detail) && !string.Equals(detail, title, StringComparison.Ordinal))
        {
            text.Append(": ").Append(detail.TrimEnd('.'));
        }

        text.Append(" (HTTP ").Append(status).Append(", ").Append(method).Append(' ').Append(path).Append(')');
        // The server's detail often already spells out every field error; saying it twice helps nobody.
        if (detail is not null && errors.Values.SelectMany(m => m).All(m => detail.Contains(m.TrimEnd('.'), StringComparison.Ordinal)))
        {
            return text.ToString();
        }

        foreach (var (field, messages) in errors.Take(20))
        {
            foreach (var message in messages)
            {
                text.Append('\n').Append("  ").Append(field).Append(": ").Append(message);
            }
        }

        if (errors.Count > 20)
        {
            text.Append('\n').Append("  … and ").Append(errors.Count - 20).Append(" more fields");
        }

        return text.ToString();
    }
}
