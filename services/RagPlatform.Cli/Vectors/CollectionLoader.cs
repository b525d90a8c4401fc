using RagPlatform.Contracts.Http;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Core.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Vectors;

/// <summary>
/// Fills a new collection from complete points (vector + payload), as restore and import need: the vector backend,
/// the lexical index (same ids, same payloads, as the embedding worker writes them) and the metadata store's
/// documents and chunk rows, recorded as one job through the store's own submit/complete path. Document hashes are
/// derived from the payloads exactly as ingestion derives them, so re-posting an unchanged document is a no-op.
/// </summary>
public sealed class CollectionLoader(IMetadataStore store, ILexicalIndex lexical, IVectorBackend backend, string collection)
{
    private readonly Dictionary<string, List<StoredChunk>> _chunksByDocument = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _payloadHashByDocument = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredChunk> _givenChunks = new(StringComparer.Ordinal);

    public long Points { get; private set; }

    /// <summary>Creates the metadata record and the vector collection. Fails when the metadata store already has that name.</summary>
    public async Task CreateAsync(CollectionSettings settings, VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        await backend.EnsureCollectionAsync(spec with { Name = collection }, cancellationToken);
        if (!await store.TryCreateCollectionAsync(new CollectionRecord(collection, settings, spec.Fingerprint.ToString(), 0, now, now), cancellationToken))
        {
            throw new CliException($"collection '{collection}' already exists; delete it first or restore under another --collection.");
        }
    }

    /// <summary>Chunk rows as the source's metadata store held them; points without one get a row derived from their payload.</summary>
    public void AddChunkRow(StoredChunk chunk) => _givenChunks[chunk.PointId] = chunk;

    public async Task AddPointsAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        await backend.UpsertAsync(collection, points, cancellationToken);
        if (backend is not IHybridSearchBackend)
        {
            // A backend that keeps the lexical terms itself (Qdrant) indexed them with the points.
            await lexical.UpsertAsync(collection, [.. points.Select(p => new LexicalChunk(p.Id, p.Payload))], cancellationToken);
        }
        foreach (var point in points)
        {
            var payload = point.Payload;
            if (!_payloadHashByDocument.TryGetValue(payload.DocumentId, out var payloadHash))
            {
                payloadHash = ContentHashing.PayloadHash(payload.Title, payload.Tags, ChunkLocation.Strip(payload.Metadata));
                _payloadHashByDocument[payload.DocumentId] = payloadHash;
            }

            var chunk = _givenChunks.TryGetValue(point.Id, out var given)
                ? given
                : new StoredChunk(point.Id, payload.DocumentId, payload.Ordinal, payload.ContentHash, ContentHashing.ChunkPayloadHash(payloadHash, payload.Ordinal, ChunkLocation.Of(payload.Metadata)));
            if (!_chunksByDocument.TryGetValue(payload.DocumentId, out var chunks))
            {
                _chunksByDocument[payload.DocumentId] = chunks = [];
            }

            chunks.Add(chunk);
        }

        Points += points.Count;
    }

    /// <summary>Records every document and its chunk rows in the metadata store (one job, committed in batches).</summary>
    public async Task<int> CommitAsync(CancellationToken cancellationToken)
    {
        const int DocumentsPerBatch = 500;
        var documents = _chunksByDocument.OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
        for (var start = 0; start < documents.Count; start += DocumentsPerBatch)
        {
            var batch = documents.Skip(start).Take(DocumentsPerBatch).ToList();
            var requests = batch.Select(d => new DocumentRequest(d.Key, DocumentHash(d.Key, d.Value))).ToList();
            var jobId = Guid.NewGuid();
            var tickets = await store.SubmitAsync(collection, jobId, requests, cancellationToken);
            var results = new List<JobItemResult>();
            for (var i = 0; i < batch.Count; i++)
            {
                if (tickets[i].Revision is not { } revision)
                {
                    continue;
                }

                var chunks = batch[i].Value.OrderBy(c => c.Ordinal).ToList();
                results.Add(new JobItemResult(batch[i].Key, revision, JobItemOutcome.Succeeded, DocumentHash: requests[i].DocumentHash,
                    Chunks: chunks, ChunksReused: chunks.Count));
            }

            await store.CompleteItemsAsync(collection, jobId, results, cancellationToken);
        }

        return documents.Count;
    }

    private string DocumentHash(string documentId, List<StoredChunk> chunks) =>
        ContentHashing.DocumentHash(_payloadHashByDocument[documentId], chunks.OrderBy(c => c.Ordinal).Select(c => c.ContentHash));
}
