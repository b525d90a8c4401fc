using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RagPlatform.Client;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Bench;

/// <summary>
/// The synthetic corpus every bench command ingests: Korean documents of about ten 256-token chunks each (with
/// 32 tokens of overlap), tagged "bench", with a "seq" metadata number, posted a thousand per request.
/// </summary>
public static class BenchCorpus
{
    public const int DocumentsPerRequest = 1000;

    public const int TokensPerDocument = 2100;

    /// <summary>Settings for a platform whose searches must all do their full work: result and query-embedding caches off.</summary>
    public static readonly IReadOnlyList<string> NoCaches =
    [
        "--RagPlatform:Query:ResultCacheSeconds=0",
        "--RagPlatform:Query:QueryEmbeddingCacheSeconds=0",
    ];

    /// <summary>Documents <paramref name="first"/> … <paramref name="first"/>+<paramref name="count"/>−1, ids <c>{prefix}-0000001</c>.</summary>
    public static List<DocumentInput> Generate(KoreanTextGenerator generator, string prefix, int count, int first = 0)
    {
        var documents = new List<DocumentInput>(count);
        for (var i = first; i < first + count; i++)
        {
            var metadata = new Dictionary<string, JsonElement> { ["seq"] = JsonSerializer.SerializeToElement(i) };
            documents.Add(new DocumentInput(
                string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D7}"), generator.Title(), generator.Document(TokensPerDocument), ["bench"], metadata));
        }

        return documents;
    }

    /// <summary>Posts <paramref name="documents"/> documents into <paramref name="collection"/> and waits for their jobs.</summary>
    /// <returns>Chunks stored, and whether any document failed.</returns>
    public static async Task<(long Chunks, bool Failed)> IngestAsync(
        RagPlatformClient client, string collection, KoreanTextGenerator generator, int documents, TextWriter log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var jobs = new List<Guid>();
        for (var start = 0; start < documents; start += DocumentsPerRequest)
        {
            var batch = Generate(generator, "doc", Math.Min(DocumentsPerRequest, documents - start), start);
            jobs.Add((await client.PostDocumentsAsync(collection, batch, cancellationToken)).JobId);
        }

        var statuses = await JobWaiter.WaitAsync(client, jobs, TimeSpan.FromMilliseconds(200), null, cancellationToken);
        var chunks = statuses.Sum(s => s.ChunksEmbedded + s.ChunksReused);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingested {Terminal.Count(documents)} documents, {Terminal.Count(chunks)} chunks in {clock.Elapsed.TotalSeconds:0.0} s"));
        return (chunks, statuses.Sum(s => s.Failed) > 0);
    }
}
