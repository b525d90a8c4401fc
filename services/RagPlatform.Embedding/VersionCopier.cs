using System.Diagnostics.Metrics;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Storage;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

/// <summary>
/// Copies documents from a collection's active version into the version a re-index builds: the chunk rows of the
/// metadata store say which points a document holds, the active backend gives their texts and payloads, and the
/// target's provider embeds each distinct text once. Chunk boundaries and point ids stay the same, so the lexical
/// index and the chunk rows serve both versions unchanged. Every write is an upsert: running it twice changes nothing.
/// </summary>
public sealed class VersionCopier(IDocumentStore store, IMeterFactory meterFactory)
{
    private const int WriteBatchSize = 512;
    private readonly Counter<long> _chunks = meterFactory.Create("RagPlatform.Embedding")
        .CreateCounter<long>("ragplatform.reindex.chunks", unit: "{chunk}", description: "Chunks re-embedded into a collection's new version.");

    /// <summary>
    /// Brings <paramref name="documentIds"/> in <paramref name="target"/> to what the active version holds now, and removes
    /// <paramref name="vanished"/> points there. Call it holding the documents' locks. A provider that fails a whole call
    /// throws (the bus retries); per-document problems come back as failed results.
    /// </summary>
    /// <param name="chunks">The documents' chunks, when not (yet) their recorded chunk rows: an ingest copies what it is
    /// about to record, before it records it.</param>
    public async Task<IReadOnlyList<JobItemResult>> CopyAsync(
        ResolvedCollection source, ReindexTarget target, IReadOnlyCollection<string> documentIds, IReadOnlyList<string> vanished,
        IReadOnlyList<StoredChunk>? chunks, CancellationToken cancellationToken)
    {
        chunks ??= await store.GetChunksAsync(source.Name, documentIds, cancellationToken);
        var held = chunks.Count == 0
            ? new Dictionary<string, VectorPoint>(StringComparer.Ordinal)
            : (await source.Backend.RetrieveAsync(source.VectorName, chunks.Select(c => c.PointId).ToList(), cancellationToken))
                .ToDictionary(p => p.Id, StringComparer.Ordinal);

        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in chunks)
        {
            if (held.TryGetValue(chunk.PointId, out var point))
            {
                texts.TryAdd(chunk.ContentHash, point.Payload.Text);
            }
        }

        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var vectors = await ProviderCalls.EmbedDocumentsAsync(target.Provider, texts, errors, afterBatch: null, cancellationToken);

        var results = new List<JobItemResult>(documentIds.Count);
        var points = new List<VectorPoint>();
        var byDocument = chunks.ToLookup(c => c.DocumentId, StringComparer.Ordinal);
        foreach (var documentId in documentIds)
        {
            var documentChunks = byDocument[documentId].ToList();
            var missing = documentChunks.FirstOrDefault(c => !held.ContainsKey(c.PointId));
            var failed = documentChunks.FirstOrDefault(c => !vectors.ContainsKey(c.ContentHash));
            if (missing is not null)
            {
                results.Add(new JobItemResult(documentId, 0, JobItemOutcome.Failed,
                    $"Chunk {missing.Ordinal}: its point is missing from the active version, so its text is unknown."));
                continue;
            }

            if (failed is not null)
            {
                results.Add(new JobItemResult(documentId, 0, JobItemOutcome.Failed,
                    $"Chunk {failed.Ordinal}: {errors.GetValueOrDefault(failed.ContentHash) ?? "no vector could be obtained."}"));
                continue;
            }

            points.AddRange(documentChunks.Select(c => new VectorPoint(c.PointId, vectors[c.ContentHash], held[c.PointId].Payload)));
            results.Add(new JobItemResult(documentId, 0, JobItemOutcome.Succeeded, ChunksEmbedded: documentChunks.Count));
        }

        for (var i = 0; i < points.Count; i += WriteBatchSize)
        {
            await target.Backend.UpsertAsync(target.VectorName, points.GetRange(i, Math.Min(WriteBatchSize, points.Count - i)), cancellationToken);
        }

        if (vanished.Count > 0)
        {
            await target.Backend.DeleteAsync(target.VectorName, vanished, cancellationToken);
        }

        _chunks.Add(points.Count);
        return results;
    }
}
