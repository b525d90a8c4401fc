using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Core.Text;

namespace RagPlatform.Ingestion;

/// <summary>
/// Accepts document batches: validates them whole, chunks and hashes them, asks the metadata store which
/// documents changed, and queues only those for the embedding workers. Unchanged documents cost no
/// embedding; a changed document's unchanged chunks are kept by the worker.
/// </summary>
public sealed class IngestionService(
    CollectionService collections,
    IMetadataStore store,
    IDocumentLocks locks,
    ILexicalIndex lexical,
    IPublishEndpoint publisher,
    IOptions<RagPlatformOptions> options,
    ILogger<IngestionService> logger,
    IMeterFactory meterFactory)
{
    private readonly RagPlatformOptions _options = options.Value;
    private readonly Counter<long> _documents = meterFactory.Create("RagPlatform.Ingestion")
        .CreateCounter<long>("ragplatform.ingestion.documents", unit: "{document}", description: "Documents submitted, by outcome at submission.");

    public async Task<JobAccepted> SubmitAsync(string collectionName, IReadOnlyList<DocumentInput?>? input, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(collectionName);
        var documents = DocumentValidator.Validate(input, _options.Ingestion);
        var collection = await collections.GetOrCreateForIngestionAsync(collectionName, cancellationToken);

        // Chunking and hashing are CPU work independent per document.
        var prepared = new DocumentWork[documents.Count];
        Parallel.For(0, documents.Count, new ParallelOptions { CancellationToken = cancellationToken },
            i => prepared[i] = Prepare(collection, documents[i]));

        var jobId = NewId.NextGuid();
        var tickets = await store.SubmitAsync(
            collectionName, jobId, prepared.Select(d => new DocumentRequest(d.DocumentId, d.DocumentHash)).ToList(), cancellationToken);

        var work = new List<DocumentWork>();
        for (var i = 0; i < prepared.Length; i++)
        {
            if (tickets[i].Revision is { } revision)
            {
                work.Add(prepared[i] with { Revision = revision });
            }
        }

        _documents.Add(prepared.Length - work.Count, new KeyValuePair<string, object?>("outcome", "unchanged"));
        _documents.Add(work.Count, new KeyValuePair<string, object?>("outcome", "queued"));
        await PublishAsync(collectionName, jobId, work, cancellationToken);
        logger.LogInformation("Job {JobId}: {Total} documents for {Collection}, {Queued} queued, {Unchanged} unchanged",
            jobId, prepared.Length, collectionName, work.Count, prepared.Length - work.Count);
        return new JobAccepted(jobId, collectionName, prepared.Length);
    }

    public async Task DeleteDocumentAsync(string collectionName, string documentId, CancellationToken cancellationToken)
    {
        await collections.GetRequiredAsync(collectionName, cancellationToken);
        await using (await locks.AcquireAsync(collectionName, [documentId], cancellationToken))
        {
            // Resolved under the lock, so a re-index copying this document sees it either whole or gone.
            var collection = await collections.ResolveAsync(collectionName, cancellationToken);
            var states = await store.GetDocumentStatesAsync(collectionName, [documentId], cancellationToken);
            if (!states.TryGetValue(documentId, out var state) || state.Deleted)
            {
                throw new ResourceNotFoundException($"Document '{documentId}' does not exist in collection '{collectionName}'.");
            }

            // Points first: if the store update then fails, a retried delete still finds the document.
            await collection.Backend.DeleteByDocumentAsync(collection.VectorName, documentId, cancellationToken);
            if (collections.ResolveReindexTarget(collection.Record) is { } target)
            {
                await target.Backend.DeleteByDocumentAsync(target.VectorName, documentId, cancellationToken);
            }

            await lexical.DeleteByDocumentAsync(collectionName, documentId, cancellationToken);
            await store.DeleteDocumentAsync(collectionName, documentId, cancellationToken);
        }
    }

    private static DocumentWork Prepare(ResolvedCollection collection, ValidDocument document)
    {
        var chunker = collection.Chunker;
        var parameters = chunker.Parameters;
        var chunks = chunker.Chunk(document.Text);
        var occurrences = new Dictionary<string, int>(StringComparer.Ordinal);
        var work = new ChunkWork[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            var hash = ContentHashing.ChunkHash(parameters, chunks[i].Text);
            occurrences[hash] = occurrences.TryGetValue(hash, out var seen) ? seen + 1 : 0;
            work[i] = new ChunkWork(
                ContentHashing.PointId(collection.Name, document.Id, hash, occurrences[hash]), hash, i, chunks[i].Text);
        }

        var payloadHash = ContentHashing.PayloadHash(document.Title, document.Tags, document.Metadata);
        return new DocumentWork(
            document.Id, 0, ContentHashing.DocumentHash(payloadHash, work.Select(c => c.ContentHash)),
            document.Title, document.Tags, document.Metadata, work);
    }

    private async Task PublishAsync(string collection, Guid jobId, List<DocumentWork> work, CancellationToken cancellationToken)
    {
        var batch = new List<DocumentWork>();
        var chunks = 0;
        var published = new ConcurrentBag<string>();
        // While the broker restarts MassTransit reconnects and a publish waits for it; past the timeout the
        // request answers 503 instead of hanging, and what was not confirmed is withdrawn (below).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.Messaging.PublishTimeoutSeconds));
        try
        {
            foreach (var document in work)
            {
                if (batch.Count > 0 && chunks + document.Chunks.Count > _options.Ingestion.MaxChunksPerMessage)
                {
                    await publisher.Publish(new EmbedDocuments(jobId, collection, batch), timeout.Token);
                    batch.ForEach(d => published.Add(d.DocumentId));
                    batch = [];
                    chunks = 0;
                }

                batch.Add(document);
                chunks += document.Chunks.Count;
            }

            if (batch.Count > 0)
            {
                await publisher.Publish(new EmbedDocuments(jobId, collection, batch), timeout.Token);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Nothing is lost silently: documents that could not be queued fail in the job, and their
            // request is withdrawn so that posting them again retries them.
            var sent = published.ToHashSet(StringComparer.Ordinal);
            var failed = work.Where(d => !sent.Contains(d.DocumentId))
                .Select(d => new JobItemResult(d.DocumentId, d.Revision, JobItemOutcome.Failed, "Could not queue the document for embedding: " + Reason(ex)))
                .ToList();
            await store.CompleteItemsAsync(collection, jobId, failed, CancellationToken.None);
            logger.LogWarning("Job {JobId}: the message bus did not take {Failed} documents ({Reason})", jobId, failed.Count, Reason(ex));
            throw new MessageBusUnavailableException(
                $"The message bus did not accept job {jobId} ({Reason(ex)}); {failed.Count} documents were marked failed and can be posted again.", ex);
        }
    }

    private string Reason(Exception ex) => ex is OperationCanceledException
        ? $"no broker confirmation within {_options.Messaging.PublishTimeoutSeconds} s"
        : ex.GetType().Name;
}
