using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

public sealed record UploadProgress(int Documents, int Batches);

/// <summary>What posting accomplished: the jobs the server accepted and what never reached one.</summary>
public sealed class UploadResult
{
    public List<JobAccepted> Jobs { get; } = [];

    /// <summary>Documents refused before or while posting (bad input, duplicate ids, refused by validation).</summary>
    public List<JobItemError> Failures { get; } = [];

    public int Skipped { get; set; }

    /// <summary>What the server did with each posted file (parsed, unchanged, failed with its reason).</summary>
    public List<FileResult> Files { get; } = [];

    public int Posted => Jobs.Sum(j => j.Documents);
}

/// <summary>
/// Posts documents in batches that respect the server's per-request limits. A batch the server refuses for
/// the sake of some of its documents (400 naming <c>$[i]</c> fields) is posted again without them, so one bad
/// document costs only itself; any other refusal stops the upload.
/// </summary>
public sealed partial class DocumentUploader
{
    /// <summary>The server's default limits (RagPlatform:Ingestion:MaxDocumentsPerRequest and MaxRequestBytes).</summary>
    public const int MaxDocumentsPerRequest = 10_000;

    public const long MaxRequestBytes = 32L * 1024 * 1024;

    private readonly RagPlatformClient _client;
    private readonly string _collection;
    private readonly int _batchSize;
    private readonly long _maxBytes;

    public DocumentUploader(RagPlatformClient client, string collection, int batchSize, long maxRequestBytes = MaxRequestBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, MaxDocumentsPerRequest);
        _client = client;
        _collection = collection;
        _batchSize = batchSize;
        // Headroom for the array brackets and separators.
        _maxBytes = maxRequestBytes - 1024;
    }

    public async Task<UploadResult> UploadAsync(IEnumerable<SourceItem> items, Action<UploadProgress>? progress, CancellationToken cancellationToken)
    {
        var result = new UploadResult();
        var firstSeen = new Dictionary<string, string>(StringComparer.Ordinal);
        var batch = new List<PendingDocument>();
        long batchBytes = 0;
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (item.Kind == SourceItemKind.Skipped)
            {
                result.Skipped++;
                continue;
            }

            if (item.Kind == SourceItemKind.Invalid || item.Document is null)
            {
                result.Failures.Add(new JobItemError(item.Origin, item.Problem ?? "not a document"));
                continue;
            }

            var id = item.Document.Id ?? string.Empty;
            if (!firstSeen.TryAdd(id, item.Origin))
            {
                result.Failures.Add(new JobItemError(id, $"id '{id}' appears twice in the input ({firstSeen[id]} and {item.Origin}); the first was kept."));
                continue;
            }

            var json = JsonSerializer.SerializeToUtf8Bytes(item.Document, CliJson.Options);
            if (json.Length > _maxBytes)
            {
                result.Failures.Add(new JobItemError(id, string.Create(CultureInfo.InvariantCulture,
                    $"the document is {json.Length / 1048576.0:0.0} MB as JSON; a request may carry at most {MaxRequestBytes / 1048576} MB.")));
                continue;
            }

            if (batch.Count == _batchSize || batchBytes + json.Length > _maxBytes)
            {
                await PostAsync(batch, result, cancellationToken);
                progress?.Invoke(new UploadProgress(result.Posted, result.Jobs.Count));
                batch = [];
                batchBytes = 0;
            }

            batch.Add(new PendingDocument(id, json));
            batchBytes += json.Length + 1;
        }

        if (batch.Count > 0)
        {
            await PostAsync(batch, result, cancellationToken);
            progress?.Invoke(new UploadProgress(result.Posted, result.Jobs.Count));
        }

        return result;
    }

    /// <summary>A JSON array of already serialised documents.</summary>
    public static byte[] Body(IReadOnlyList<ReadOnlyMemory<byte>> documents)
    {
        var body = new byte[2 + documents.Sum(d => d.Length) + Math.Max(0, documents.Count - 1)];
        var position = 0;
        body[position++] = (byte)'[';
        for (var i = 0; i < documents.Count; i++)
        {
            if (i > 0)
            {
                body[position++] = (byte)',';
            }

            documents[i].Span.CopyTo(body.AsSpan(position));
            position += documents[i].Length;
        }

        body[position] = (byte)']';
        return body;
    }

    private async Task PostAsync(List<PendingDocument> batch, UploadResult result, CancellationToken cancellationToken)
    {
        // Each refusal removes at least one document, so this ends.
        while (batch.Count > 0)
        {
            try
            {
                result.Jobs.Add(await _client.PostDocumentsAsync(_collection, Body([.. batch.Select(d => (ReadOnlyMemory<byte>)d.Json)]), cancellationToken));
                return;
            }
            catch (RagApiException ex) when (ex.Status == 400 && Blame(ex.Errors, batch.Count) is { Count: > 0 } blamed)
            {
                foreach (var (index, message) in blamed.OrderBy(b => b.Key))
                {
                    result.Failures.Add(new JobItemError(batch[index].Id, message));
                }

                batch = [.. batch.Where((_, i) => !blamed.ContainsKey(i))];
            }
        }
    }

    /// <summary>
    /// Maps validation errors to the batch positions they name (<c>$[3].text</c> → 3), or nothing when any
    /// error is about the request as a whole: then no single document can be blamed.
    /// </summary>
    public static Dictionary<int, string> Blame(IReadOnlyDictionary<string, string[]> errors, int count)
    {
        var blamed = new Dictionary<int, string>();
        foreach (var (field, messages) in errors)
        {
            var match = ItemPath().Match(field);
            if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= count)
            {
                return [];
            }

            var property = field[match.Length..].TrimStart('.');
            var text = string.Join(" ", messages);
            text = property.Length > 0 ? property + ": " + text : text;
            blamed[index] = blamed.TryGetValue(index, out var earlier) ? earlier + "; " + text : text;
        }

        return blamed;
    }

    [GeneratedRegex(@"^\$\[(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex ItemPath();

    private sealed record PendingDocument(string Id, byte[] Json);
}
