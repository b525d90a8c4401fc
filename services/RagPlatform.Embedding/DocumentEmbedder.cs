using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Errors;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Core.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

/// <summary>
/// Brings documents to the revision a message asks for, spending as little embedding as possible:
/// chunks the document already holds are kept, chunks whose text the collection already holds anywhere
/// reuse that vector, texts any worker embedded with the same model before come from the embedding cache
/// (<see cref="EmbeddingCache"/>, shared through Redis), identical new texts are embedded once, vanished
/// chunks are deleted. Point ids are deterministic and every write is an upsert, so running the same message
/// twice changes nothing.
/// </summary>
public sealed class DocumentEmbedder(
    CollectionService collections,
    IMetadataStore store,
    IDocumentLocks locks,
    ILexicalIndex lexical,
    EmbeddingCache embeddingCache,
    VersionCopier copier,
    ILogger<DocumentEmbedder> logger,
    IMeterFactory meterFactory)
{
    private const int WriteBatchSize = 512;
    private readonly Counter<long> _chunks = meterFactory.Create("RagPlatform.Embedding")
        .CreateCounter<long>("ragplatform.chunks", unit: "{chunk}", description: "Chunks written, by how their vector was obtained.");
    private readonly Histogram<double> _embedDuration = meterFactory.Create("RagPlatform.Embedding")
        .CreateHistogram<double>("ragplatform.embedding.duration", unit: "s", description: "Time spent embedding one message's new texts.");

    public async Task<IReadOnlyList<JobItemResult>> ProcessAsync(EmbedDocuments message, CancellationToken cancellationToken)
    {
        var documentIds = message.Documents.Select(d => d.DocumentId).ToList();
        await using var held = await locks.AcquireAsync(message.Collection, documentIds, cancellationToken);

        // Resolved under the locks: a re-index that started before sees these documents after this message (its
        // copy waits for the locks); one that starts after finds them committed. Either way its version gets them.
        ResolvedCollection collection;
        try
        {
            collection = await collections.ResolveAsync(message.Collection, cancellationToken);
        }
        catch (ResourceNotFoundException)
        {
            logger.LogWarning("Job {JobId}: collection {Collection} no longer exists; message dropped", message.JobId, message.Collection);
            return [];
        }

        var results = new List<JobItemResult>();
        var states = await store.GetDocumentStatesAsync(message.Collection, documentIds, cancellationToken);
        var active = new List<DocumentWork>();
        foreach (var document in message.Documents)
        {
            if (!states.TryGetValue(document.DocumentId, out var state) || state.Deleted || state.RequestedRevision > document.Revision)
            {
                results.Add(new JobItemResult(document.DocumentId, document.Revision, JobItemOutcome.Skipped,
                    "Superseded by a newer revision or a delete before it was embedded."));
            }
            else
            {
                active.Add(document);
            }
        }

        var fingerprint = collection.Provider.Fingerprint;
        if (collection.Record.Fingerprint is { } expected && expected != fingerprint.ToString())
        {
            // The provider's configuration changed under the collection: never mix vector spaces.
            var reason = $"The collection holds {expected} but the provider now produces {fingerprint}; re-index it (POST /v1/collections/{message.Collection}/reindex).";
            results.AddRange(active.Select(d => new JobItemResult(d.DocumentId, d.Revision, JobItemOutcome.Failed, reason)));
            await store.CompleteItemsAsync(message.Collection, message.JobId, results, cancellationToken);
            return results;
        }

        var plans = await PlanAsync(collection, active, cancellationToken);
        var vectors = await GatherVectorsAsync(collection, plans, cancellationToken);

        var points = new List<VectorPoint>();
        var vanished = new List<string>();
        foreach (var plan in plans)
        {
            var missing = plan.Document.Chunks.FirstOrDefault(c => plan.Writes.Contains(c.PointId) && !vectors.Vectors.ContainsKey(c.PointId));
            if (missing is not null)
            {
                var error = vectors.Errors.GetValueOrDefault(missing.ContentHash) ?? "No vector could be obtained for a chunk.";
                results.Add(new JobItemResult(plan.Document.DocumentId, plan.Document.Revision, JobItemOutcome.Failed,
                    $"Chunk {missing.Ordinal}: {error}"));
                continue;
            }

            foreach (var chunk in plan.Document.Chunks.Where(c => plan.Writes.Contains(c.PointId)))
            {
                // A parsed file's chunk carries its section and pages in its own copy of the metadata (ChunkLocation).
                points.Add(new VectorPoint(chunk.PointId, vectors.Vectors[chunk.PointId], new PointPayload(
                    plan.Document.DocumentId, plan.Document.Title, chunk.Text, plan.Document.Tags, Location(chunk).AddTo(plan.Document.Metadata),
                    chunk.ContentHash, chunk.Ordinal)));
            }

            vanished.AddRange(plan.Vanished);
            results.Add(new JobItemResult(
                plan.Document.DocumentId, plan.Document.Revision, JobItemOutcome.Succeeded,
                DocumentHash: plan.Document.DocumentHash,
                Chunks: plan.Document.Chunks.Select(c => new StoredChunk(
                    c.PointId, plan.Document.DocumentId, c.Ordinal, c.ContentHash, ContentHashing.ChunkPayloadHash(plan.PayloadHash, c.Ordinal, Location(c)))).ToList(),
                ChunksEmbedded: plan.Document.Chunks.Count(c => vectors.Embedded.Contains(c.PointId)),
                ChunksReused: plan.Document.Chunks.Count(c => vectors.Reused.Contains(c.PointId) || vectors.Cached.Contains(c.PointId)),
                ChunksUnchanged: plan.Document.Chunks.Count - plan.New,
                ChunksDeleted: plan.Vanished.Count));
        }

        // New points go in before old ones go out, so a document is never briefly missing from search. The
        // lexical index follows the vectors write for write (same ids, same payloads), so both sides of a
        // hybrid search see the same chunks; a redelivered message repeats idempotent writes on both. A backend
        // that keeps the lexical terms beside the vectors itself (Qdrant) needs no separate index.
        var separateLexicalIndex = collection.Backend is not IHybridSearchBackend;
        for (var i = 0; i < points.Count; i += WriteBatchSize)
        {
            var batch = points.GetRange(i, Math.Min(WriteBatchSize, points.Count - i));
            await collection.Backend.UpsertAsync(collection.VectorName, batch, cancellationToken);
            if (separateLexicalIndex)
            {
                await lexical.UpsertAsync(message.Collection, batch.Select(p => new LexicalChunk(p.Id, p.Payload)).ToList(), cancellationToken);
            }
        }

        // Points are added (to the version a re-index builds too) before the chunk rows name them, and removed only
        // after the rows let go of them: a crash in between leaves points no row names (removed when the standalone host
        // starts again, see InterruptedWorkRecovery), never a row whose point is gone, even in a version that a
        // re-index switches to meanwhile. The job finishes, and the collection's version (the result cache's key) moves
        // on, only once the vanished points are gone: a caller who sees the job done never finds the old text, cached
        // or not (CommitChunksAsync lets the rows go first; CompleteItemsAsync finishes the job after the deletes).
        var target = await SyncReindexTargetAsync(collection, message.JobId, results, vanished, cancellationToken);
        if (vanished.Count == 0)
        {
            await store.CompleteItemsAsync(message.Collection, message.JobId, results, cancellationToken);
        }
        else
        {
            await store.CommitChunksAsync(message.Collection, results, cancellationToken);
            if (target is not null)
            {
                await target.Backend.DeleteAsync(target.VectorName, vanished, cancellationToken);
            }

            try
            {
                await collection.Backend.DeleteAsync(collection.VectorName, vanished, cancellationToken);
            }
            catch (VectorCollectionNotFoundException) when (target is not null)
            {
                // The re-index switched to its version and dropped this one meanwhile: its points are gone with it.
            }

            if (separateLexicalIndex)
            {
                await lexical.DeleteAsync(message.Collection, vanished, cancellationToken);
            }

            await store.CompleteItemsAsync(message.Collection, message.JobId, results, cancellationToken);
        }

        _chunks.Add(vectors.Embedded.Count, new KeyValuePair<string, object?>("outcome", "embedded"));
        _chunks.Add(vectors.Reused.Count, new KeyValuePair<string, object?>("outcome", "reused"));
        _chunks.Add(vectors.Cached.Count, new KeyValuePair<string, object?>("outcome", "cached"));
        _chunks.Add(vanished.Count, new KeyValuePair<string, object?>("outcome", "deleted"));
        return results;
    }

    /// <summary>
    /// Dual write during a re-index: documents this message changed are copied into the version being built, so the
    /// switch loses nothing ingested meanwhile; their chunks are the ones this message is about to record (the rows still
    /// name the old ones). When that fails (the new model is down), the re-index is given up rather than this ingest: the
    /// active version already holds the documents. Returns the version built, for the vanished points to go there too.
    /// </summary>
    private async Task<ReindexTarget?> SyncReindexTargetAsync(
        ResolvedCollection collection, Guid jobId, List<JobItemResult> results, List<string> vanished, CancellationToken cancellationToken)
    {
        if (collection.Record.Reindex is not { IsRunning: true } reindex)
        {
            return null;
        }

        var succeeded = results.Where(r => r.Outcome == JobItemOutcome.Succeeded).ToList();
        if (succeeded.Count == 0 && vanished.Count == 0)
        {
            return null;
        }

        string? error;
        ReindexTarget? target = null;
        try
        {
            target = (await collections.ResolveReindexTargetAsync(collection.Record, cancellationToken))!;
            var synced = await copier.CopyAsync(collection, target, succeeded.Select(r => r.DocumentId).ToList(), [],
                succeeded.SelectMany(r => r.Chunks ?? []).ToList(), cancellationToken);
            error = synced.FirstOrDefault(r => r.Outcome == JobItemOutcome.Failed) is { } failed ? $"{failed.DocumentId}: {failed.Error}" : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            logger.LogWarning("Job {JobId}: documents of {Collection} could not be copied into the version being built ({Error})",
                jobId, collection.Name, error);
            await collections.FailReindexAsync(collection.Name, reindex.JobId,
                $"A document ingested during the re-index could not be embedded with the new model: {error}", cancellationToken);
            if ((await store.GetCollectionAsync(collection.Name, cancellationToken))?.ActiveVersion == reindex.TargetVersion)
            {
                // Not given up but switched to meanwhile (and the version this message wrote to maybe dropped): recording
                // the rows now would name points the new active version lacks. The bus runs the message again against it.
                throw new InvalidOperationException(
                    $"Collection '{collection.Name}' switched to version {reindex.TargetVersion} while job {jobId} wrote to the previous one; the message is retried.");
            }

            return null;
        }

        return target;
    }

    private sealed record DocumentPlan(DocumentWork Document, string PayloadHash, HashSet<string> Writes, int New, List<string> Vanished, HashSet<string> Refresh);

    private async Task<List<DocumentPlan>> PlanAsync(ResolvedCollection collection, List<DocumentWork> documents, CancellationToken cancellationToken)
    {
        var existing = (await store.GetChunksAsync(collection.Name, documents.Select(d => d.DocumentId).ToList(), cancellationToken))
            .ToLookup(c => c.DocumentId, StringComparer.Ordinal);
        var plans = new List<DocumentPlan>(documents.Count);
        foreach (var document in documents)
        {
            var held = existing[document.DocumentId].ToDictionary(c => c.PointId, StringComparer.Ordinal);
            var payloadHash = ContentHashing.PayloadHash(document.Title, document.Tags, document.Metadata);
            var writes = new HashSet<string>(StringComparer.Ordinal);
            var refresh = new HashSet<string>(StringComparer.Ordinal);
            var fresh = 0;
            foreach (var chunk in document.Chunks)
            {
                if (!held.TryGetValue(chunk.PointId, out var stored))
                {
                    writes.Add(chunk.PointId);
                    fresh++;
                }
                else if (stored.PayloadHash != ContentHashing.ChunkPayloadHash(payloadHash, chunk.Ordinal, Location(chunk)))
                {
                    // Same text, new title/tags/metadata/position/section/pages: rewrite the payload with the vector it has.
                    writes.Add(chunk.PointId);
                    refresh.Add(chunk.PointId);
                }
            }

            var wanted = document.Chunks.Select(c => c.PointId).ToHashSet(StringComparer.Ordinal);
            plans.Add(new DocumentPlan(document, payloadHash, writes, fresh, held.Keys.Where(id => !wanted.Contains(id)).ToList(), refresh));
        }

        return plans;
    }

    private sealed class GatheredVectors
    {
        public Dictionary<string, float[]> Vectors { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Embedded { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Reused { get; } = new(StringComparer.Ordinal);

        /// <summary>Chunks whose vector came from the embedding cache.</summary>
        public HashSet<string> Cached { get; } = new(StringComparer.Ordinal);

        /// <summary>Why a content hash has no vector.</summary>
        public Dictionary<string, string> Errors { get; } = new(StringComparer.Ordinal);
    }

    private async Task<GatheredVectors> GatherVectorsAsync(ResolvedCollection collection, List<DocumentPlan> plans, CancellationToken cancellationToken)
    {
        var gathered = new GatheredVectors();
        var needed = plans.SelectMany(p => p.Document.Chunks.Where(c => p.Writes.Contains(c.PointId))).ToList();
        if (needed.Count == 0)
        {
            return gathered;
        }

        // Vectors the collection already has: the chunk's own (payload refresh) or any point with the same text.
        var refresh = plans.SelectMany(p => p.Refresh).ToHashSet(StringComparer.Ordinal);
        var newHashes = needed.Where(c => !refresh.Contains(c.PointId)).Select(c => c.ContentHash).ToHashSet(StringComparer.Ordinal);
        var byHash = await store.FindPointsByContentHashAsync(collection.Name, newHashes, cancellationToken);
        var lookup = refresh.Concat(byHash.Values).Distinct(StringComparer.Ordinal).ToList();
        var held = lookup.Count == 0
            ? new Dictionary<string, float[]>(StringComparer.Ordinal)
            : (await collection.Backend.RetrieveAsync(collection.VectorName, lookup, cancellationToken)).ToDictionary(p => p.Id, p => p.Vector, StringComparer.Ordinal);

        var byContent = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (hash, pointId) in byHash)
        {
            if (held.TryGetValue(pointId, out var vector))
            {
                byContent[hash] = vector;
            }
        }

        var toEmbed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in needed)
        {
            if (held.TryGetValue(chunk.PointId, out var own) && refresh.Contains(chunk.PointId))
            {
                gathered.Vectors[chunk.PointId] = own;
            }
            else if (byContent.TryGetValue(chunk.ContentHash, out var shared))
            {
                gathered.Vectors[chunk.PointId] = shared;
                gathered.Reused.Add(chunk.PointId);
            }
            else
            {
                toEmbed.TryAdd(chunk.ContentHash, chunk.Text);
            }
        }

        var cached = await FromCacheAsync(collection.Provider, toEmbed, cancellationToken);
        var embedded = await EmbedAsync(collection, toEmbed, gathered.Errors, cancellationToken);
        var firstUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in needed)
        {
            if (gathered.Vectors.ContainsKey(chunk.PointId))
            {
                continue;
            }

            if (cached.TryGetValue(chunk.ContentHash, out var known))
            {
                // Embedded before, by this worker or another one sharing the cache: not sent to the provider.
                gathered.Vectors[chunk.PointId] = known;
                gathered.Cached.Add(chunk.PointId);
            }
            else if (embedded.TryGetValue(chunk.ContentHash, out var vector))
            {
                gathered.Vectors[chunk.PointId] = vector;
                // Each text was embedded once; further chunks with the same text reuse that vector.
                (firstUse.Add(chunk.ContentHash) ? gathered.Embedded : gathered.Reused).Add(chunk.PointId);
            }
        }

        return gathered;
    }

    /// <summary>
    /// Takes what the embedding cache holds for these texts out of <paramref name="texts"/> (hash → text) and
    /// returns it by hash; only the rest goes to the provider.
    /// </summary>
    private async Task<Dictionary<string, float[]>> FromCacheAsync(IEmbeddingProvider provider, Dictionary<string, string> texts, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (!UsesCache(provider) || texts.Count == 0)
        {
            return found;
        }

        var items = texts.ToList();
        var vectors = await embeddingCache.GetAsync(provider.Fingerprint, EmbeddingPurpose.Document, items.Select(i => i.Value).ToList(), cancellationToken);
        for (var i = 0; i < items.Count; i++)
        {
            if (vectors[i] is { } vector)
            {
                found[items[i].Key] = vector;
                texts.Remove(items[i].Key);
            }
        }

        return found;
    }

    /// <summary>Embeds each distinct text once, in the provider's batch size; per-item failures are kept per hash.</summary>
    private async Task<Dictionary<string, float[]>> EmbedAsync(
        ResolvedCollection collection, Dictionary<string, string> texts, Dictionary<string, string> errors, CancellationToken cancellationToken)
    {
        if (texts.Count == 0)
        {
            return new Dictionary<string, float[]>(StringComparer.Ordinal);
        }

        var provider = collection.Provider;
        var started = Stopwatch.GetTimestamp();
        // Written back batch by batch, so a provider failure later in the message (the bus retries it) does not
        // pay again for what was embedded before it.
        var vectors = await ProviderCalls.EmbedDocumentsAsync(provider, texts, errors,
            UsesCache(provider)
                ? embedded => embeddingCache.SetAsync(provider.Fingerprint, EmbeddingPurpose.Document, embedded,
                    TimeSpan.FromSeconds(embeddingCache.DocumentSeconds), cancellationToken)
                : null,
            cancellationToken);
        _embedDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return vectors;
    }

    private static ChunkLocation Location(ChunkWork chunk) =>
        chunk.Section is null && chunk.PageStart is null && chunk.PageEnd is null ? ChunkLocation.None : new ChunkLocation(chunk.Section, chunk.PageStart, chunk.PageEnd);

    private bool UsesCache(IEmbeddingProvider provider) => embeddingCache.DocumentSeconds > 0 && provider.CacheVectors;
}
