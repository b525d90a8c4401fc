using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using RagPlatform.Ingestion.Files;
using RagPlatform.Sdk.Documents;

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
    DocumentParsing parsing,
    IOptions<RagPlatformOptions> options,
    ILogger<IngestionService> logger,
    IMeterFactory meterFactory)
{
    private readonly RagPlatformOptions _options = options.Value;
    private readonly Counter<long> _documents = meterFactory.Create("RagPlatform.Ingestion")
        .CreateCounter<long>("ragplatform.ingestion.documents", unit: "{document}", description: "Documents submitted, by outcome at submission.");
    private readonly Counter<long> _files = meterFactory.Create("RagPlatform.Ingestion")
        .CreateCounter<long>("ragplatform.ingestion.files", unit: "{file}", description: "Files submitted, by outcome (parsed, unchanged, failed).");

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

    /// <summary>
    /// Files in: each is sniffed, parsed and chunked along its structure, unless the collection already holds this very
    /// file under its id (same bytes, parser build, chunking, tags and metadata: <c>unchanged</c>, not even parsed).
    /// Every file is an item of one job; one that cannot be read fails alone with its reason and writes nothing.
    /// </summary>
    public async Task<FilesAccepted> SubmitFilesAsync(
        string collectionName, IReadOnlyList<UploadedFile> files, IReadOnlyList<string?>? tagsInput,
        IReadOnlyDictionary<string, JsonElement>? metadataInput, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(collectionName);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (files.Count == 0)
        {
            errors["files"] = ["Send one or more files as multipart/form-data parts named 'files' (each with a file name)."];
        }
        else if (files.Count > _options.Ingestion.MaxFilesPerRequest)
        {
            errors["files"] = [$"A request may carry at most {_options.Ingestion.MaxFilesPerRequest} files; this one has {files.Count} (RagPlatform:Ingestion:MaxFilesPerRequest)."];
        }

        var ids = files.Select(f => FileIngestion.DocumentId(f.Name)).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            var field = string.Create(CultureInfo.InvariantCulture, $"files[{i}]");
            if (ids[i].Length == 0 || ids[i].Length > DocumentValidator.MaxIdLength || PayloadValidation.HasControl(ids[i]))
            {
                PayloadValidation.Add(errors, field, $"A file name (its document id) is 1-{DocumentValidator.MaxIdLength} characters without control characters.");
            }
            else if (ids.IndexOf(ids[i]) is var first && first < i)
            {
                PayloadValidation.Add(errors, field, string.Create(CultureInfo.InvariantCulture, $"'{ids[i]}' appears twice in the request (also files[{first}])."));
            }
        }

        var tags = PayloadValidation.ValidateTags(tagsInput, "tags", errors);
        var metadata = PayloadValidation.ValidateMetadata(metadataInput, "metadata", errors);
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var collection = await collections.GetOrCreateForIngestionAsync(collectionName, cancellationToken);
        var payloadHash = ContentHashing.PayloadHash(null, tags, metadata);
        var states = await store.GetDocumentStatesAsync(collectionName, ids, cancellationToken);

        // Per file: its source hash (when its type is known), and whether the collection already holds exactly it.
        var results = new FileResult[files.Count];
        var hashes = new string?[files.Count];
        var toParse = new List<int>();
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            if (file.Problem is not null)
            {
                results[i] = new FileResult(file.Name, ids[i], FileStatuses.Failed, Bytes: file.Bytes, Failure: "too_large", Error: file.Problem);
                continue;
            }

            var (contentType, _) = parsing.Sniff(file.Name, file.Content);
            if (contentType is not null && parsing.ParserIdentity(contentType) is { } parser)
            {
                hashes[i] = FileIngestion.SourceHash(file.Content.Span, parser, collection.Chunker.Parameters, payloadHash);
                if (states.TryGetValue(ids[i], out var state) && !state.Deleted && state.Hash == hashes[i])
                {
                    results[i] = new FileResult(file.Name, ids[i], FileStatuses.Unchanged, contentType, parser.Split('/')[0], Bytes: file.Bytes);
                    continue;
                }
            }

            toParse.Add(i);
        }

        // Parsing is CPU work independent per file; a hostile file costs at most its own time limit.
        var prepared = new DocumentWork?[files.Count];
        await Parallel.ForEachAsync(toParse,
            new ParallelOptions { MaxDegreeOfParallelism = _options.Ingestion.Parsing.MaxConcurrency > 0 ? _options.Ingestion.Parsing.MaxConcurrency : Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var file = files[i];
                var outcome = await parsing.ParseAsync(file.Name, file.Content, ct);
                if (!outcome.Succeeded)
                {
                    results[i] = new FileResult(file.Name, ids[i], FileStatuses.Failed, outcome.ContentType, outcome.Parser, Bytes: file.Bytes,
                        Failure: outcome.FailureCode, Error: outcome.Error);
                    return;
                }

                var document = FileIngestion.Normalize(outcome.Document!);
                var work = PrepareFile(collection, ids[i], FileIngestion.Title(document, file.Name), tags,
                    FileIngestion.Metadata(metadata, outcome.ContentType!, document), document, hashes[i]!);
                if (work.Chunks.Count == 0)
                {
                    results[i] = new FileResult(file.Name, ids[i], FileStatuses.Failed, outcome.ContentType, outcome.Parser, Bytes: file.Bytes,
                        Failure: "empty", Error: "The file holds no text to index.");
                    return;
                }

                prepared[i] = work;
                results[i] = new FileResult(file.Name, ids[i], FileStatuses.Parsed, outcome.ContentType, outcome.Parser, work.Title,
                    document.Pages, document.Sections.Count, document.Sections.Sum(s => s.Blocks.Count(b => b is TableBlock)), work.Chunks.Count, file.Bytes);
            });

        var jobId = NewId.NextGuid();
        var requests = files.Select((_, i) => results[i].Status == FileStatuses.Failed
            ? new DocumentRequest(ids[i], string.Empty, Failure: $"{results[i].Name}: {results[i].Error}")
            : new DocumentRequest(ids[i], hashes[i]!)).ToList();
        var tickets = await store.SubmitAsync(collectionName, jobId, requests, cancellationToken);

        var work = new List<DocumentWork>();
        var raced = new List<JobItemResult>();
        for (var i = 0; i < files.Count; i++)
        {
            if (results[i].Status == FileStatuses.Failed)
            {
                continue;
            }

            if (tickets[i].Revision is not { } revision)
            {
                // Another request brought the same file in meanwhile: nothing to do for this one either.
                results[i] = results[i] with { Status = FileStatuses.Unchanged };
            }
            else if (prepared[i] is { } document)
            {
                work.Add(document with { Revision = revision });
            }
            else
            {
                // It was unchanged when read, but another request changed it before this one was recorded.
                const string Error = "The document was changed by another request while this one was read; post the file again.";
                results[i] = results[i] with { Status = FileStatuses.Failed, Failure = "conflict", Error = Error };
                raced.Add(new JobItemResult(ids[i], revision, JobItemOutcome.Failed, $"{results[i].Name}: {Error}"));
            }
        }

        if (raced.Count > 0)
        {
            await store.CompleteItemsAsync(collectionName, jobId, raced, cancellationToken);
        }

        foreach (var group in results.GroupBy(r => r.Status))
        {
            _files.Add(group.Count(), new KeyValuePair<string, object?>("outcome", group.Key));
        }

        await PublishAsync(collectionName, jobId, work, cancellationToken);
        logger.LogInformation("Job {JobId}: {Total} files for {Collection}, {Parsed} parsed, {Unchanged} unchanged, {Failed} failed",
            jobId, files.Count, collectionName, work.Count,
            results.Count(r => r.Status == FileStatuses.Unchanged), results.Count(r => r.Status == FileStatuses.Failed));
        return new FilesAccepted(jobId, collectionName, files.Count, results);
    }

    private static DocumentWork PrepareFile(
        ResolvedCollection collection, string id, string title, IReadOnlyList<string> tags,
        IReadOnlyDictionary<string, JsonElement> metadata, ParsedDocument document, string sourceHash)
    {
        var parameters = collection.Chunker.Parameters;
        var chunks = StructuredChunker.Chunk(document, collection.Chunker);
        var occurrences = new Dictionary<string, int>(StringComparer.Ordinal);
        var work = new ChunkWork[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            var hash = ContentHashing.ChunkHash(parameters, chunks[i].Text);
            occurrences[hash] = occurrences.TryGetValue(hash, out var seen) ? seen + 1 : 0;
            var location = chunks[i].Location;
            work[i] = new ChunkWork(ContentHashing.PointId(collection.Name, id, hash, occurrences[hash]), hash, i, chunks[i].Text,
                location.Section, location.PageStart, location.PageEnd);
        }

        // The source hash is the document's hash: equal bytes under equal settings give equal chunks.
        return new DocumentWork(id, 0, sourceHash, title, tags, metadata, work);
    }

    public async Task DeleteDocumentAsync(string collectionName, string documentId, CancellationToken cancellationToken)
    {
        await collections.GetRequiredAsync(collectionName, cancellationToken);
        await using (await locks.AcquireAsync(collectionName, [documentId], cancellationToken))
        {
            // Resolved under the lock, so a re-index copying this document sees it either whole or gone.
            var collection = await collections.ResolveAsync(collectionName, cancellationToken);
            var states = await store.GetDocumentStatesAsync(collectionName, [documentId], cancellationToken);
            if (!states.TryGetValue(documentId, out var state))
            {
                throw new ResourceNotFoundException($"Document '{documentId}' does not exist in collection '{collectionName}'.");
            }

            // The metadata first: a crash after it leaves points no chunk row names, which the next start removes
            // (InterruptedWorkRecovery); points first would leave chunk rows whose points are gone. A delete of a
            // deleted document still clears its points (a retry after the backend failed) and then answers 404.
            var existed = !state.Deleted && await store.DeleteDocumentAsync(collectionName, documentId, cancellationToken);
            await collection.Backend.DeleteByDocumentAsync(collection.VectorName, documentId, cancellationToken);
            if (await collections.ResolveReindexTargetAsync(collection.Record, cancellationToken) is { } target)
            {
                await target.Backend.DeleteByDocumentAsync(target.VectorName, documentId, cancellationToken);
            }

            await lexical.DeleteByDocumentAsync(collectionName, documentId, cancellationToken);

            // The rows' write moved the version on before the points went; a search in between may have cached them
            // under it. Moving it on again now keeps that result from being served after the delete answered.
            await store.MarkChangedAsync(collectionName, cancellationToken);
            if (!existed)
            {
                throw new ResourceNotFoundException($"Document '{documentId}' does not exist in collection '{collectionName}'.");
            }
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
