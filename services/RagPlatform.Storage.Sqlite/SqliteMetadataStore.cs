using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Sqlite;

/// <summary>
/// The embedded metadata store: one SQLite file in WAL mode. A single writing connection behind a gate keeps
/// every multi-statement change a real transaction without SQLITE_BUSY juggling; the embedded mode has
/// one process, and the distributed mode uses Postgres instead. The embedding worker's lookups (document
/// states, chunk rows, content hashes) and job polls read through a second connection, which WAL lets read
/// committed data while the writer works, so they do not queue behind writes. Concurrent workers' results
/// (<see cref="CompleteItemsAsync"/>) are group-committed: one transaction for all that arrive together.
/// </summary>
public sealed class SqliteMetadataStore : IMetadataStore, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const string CollectionColumns = "name, settings, fingerprint, version, created_at, updated_at, active_version, reindex, retired";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _readGate = new(1, 1);
    private readonly string _path;
    private readonly WriteCombiner<CompletedItems> _completions;
    private SqliteConnection? _connection;
    private SqliteConnection? _readConnection;
    private int _disposed;

    public SqliteMetadataStore(string path)
    {
        _path = Path.GetFullPath(path);
        _completions = new WriteCombiner<CompletedItems>(CompleteBatchAsync);
    }

    /// <summary>One caller's results; without <paramref name="RecordItems"/> only the chunk rows and revisions (<see cref="CommitChunksAsync"/>).</summary>
    private sealed record CompletedItems(string Collection, Guid JobId, IReadOnlyList<JobItemResult> Results, bool RecordItems);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not null)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = _path,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
            }.ToString());
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, null, """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA foreign_keys = ON;
                """, cancellationToken);
            try
            {
                // Numbered migrations in one transaction (SqliteSchema), as on Postgres; a newer file is refused.
                await SqliteSchema.MigrateAsync(connection, _path, cancellationToken);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }

            var reader = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = _path,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString());
            await reader.OpenAsync(cancellationToken);
            _connection = connection;
            _readConnection = reader;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var command = Command(connection, null,
                $"SELECT {CollectionColumns} FROM collections WHERE name = $name",
                ("$name", name));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadCollection(reader) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken) =>
        WithConnection<IReadOnlyList<CollectionRecord>>(async connection =>
        {
            await using var command = Command(connection, null,
                $"SELECT {CollectionColumns} FROM collections ORDER BY name");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<CollectionRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(ReadCollection(reader));
            }

            return list;
        }, cancellationToken);

    public Task<bool> TryCreateCollectionAsync(CollectionRecord collection, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var command = Command(connection, null, """
                INSERT INTO collections (name, settings, fingerprint, version, created_at, updated_at)
                VALUES ($name, $settings, $fingerprint, 0, $now, $now) ON CONFLICT (name) DO NOTHING
                """,
                ("$name", collection.Name),
                ("$settings", JsonSerializer.Serialize(collection.Settings, Json)),
                ("$fingerprint", collection.Fingerprint),
                ("$now", Timestamp(collection.CreatedAt)));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task UpdateCollectionAsync(string name, CollectionSettings settings, string? fingerprint, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var command = Command(connection, null,
                "UPDATE collections SET settings = $settings, fingerprint = $fingerprint, updated_at = $now WHERE name = $name",
                ("$name", name),
                ("$settings", JsonSerializer.Serialize(settings, Json)),
                ("$fingerprint", fingerprint),
                ("$now", Timestamp(DateTimeOffset.UtcNow)));
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var command = Command(connection, null, "DELETE FROM collections WHERE name = $name", ("$name", name));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<CollectionCounts> GetCountsAsync(string collection, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT
                  (SELECT COUNT(*) FROM documents WHERE collection = $c AND deleted = 0 AND committed_revision > 0),
                  (SELECT COUNT(*) FROM chunks WHERE collection = $c),
                  (SELECT COUNT(*) FROM documents WHERE collection = $c AND deleted = 0
                      AND requested_hash IS NOT NULL AND requested_hash IS NOT committed_hash)
                """,
                ("$c", collection));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new CollectionCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }, cancellationToken);

    public Task<IReadOnlyList<DocumentTicket>> SubmitAsync(
        string collection, Guid jobId, IReadOnlyList<DocumentRequest> documents, CancellationToken cancellationToken) =>
        WithConnection<IReadOnlyList<DocumentTicket>>(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var now = Timestamp(DateTimeOffset.UtcNow);
            await using (var job = Command(connection, transaction,
                "INSERT INTO jobs (id, collection, total, created_at) VALUES ($id, $c, $total, $now)",
                ("$id", JobKey(jobId)), ("$c", collection), ("$total", documents.Count), ("$now", now)))
            {
                await job.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var read = Command(connection, transaction, """
                SELECT requested_hash, committed_hash, deleted FROM documents WHERE collection = $c AND id = $id
                """, ("$c", collection), ("$id", ""));
            await using var request = Command(connection, transaction, """
                INSERT INTO documents (collection, id, requested_revision, requested_hash, updated_at)
                VALUES ($c, $id, $rev, $hash, $now)
                ON CONFLICT (collection, id) DO UPDATE SET
                  requested_revision = excluded.requested_revision,
                  requested_hash = excluded.requested_hash,
                  deleted = 0,
                  updated_at = excluded.updated_at
                """, ("$c", collection), ("$id", ""), ("$rev", 0L), ("$hash", ""), ("$now", now));
            await using var unchanged = Command(connection, transaction, """
                INSERT OR IGNORE INTO job_items (job_id, document_id, outcome) VALUES ($job, $id, $outcome)
                """, ("$job", JobKey(jobId)), ("$id", ""), ("$outcome", (int)JobItemOutcome.Unchanged));
            await using var refused = Command(connection, transaction, """
                INSERT OR IGNORE INTO job_items (job_id, document_id, outcome, error) VALUES ($job, $id, $outcome, $error)
                """, ("$job", JobKey(jobId)), ("$id", ""), ("$outcome", (int)JobItemOutcome.Failed), ("$error", ""));
            await using var queue = QueueCommand(connection, transaction, jobId);
            await using var nextRevision = Command(connection, transaction,
                "UPDATE collections SET next_revision = next_revision + $n WHERE name = $c RETURNING next_revision - $n",
                ("$c", collection), ("$n", documents.Count));
            var firstRevision = (long)(await nextRevision.ExecuteScalarAsync(cancellationToken)
                ?? throw new InvalidOperationException($"Collection '{collection}' vanished during submission."));

            var tickets = new List<DocumentTicket>(documents.Count);
            for (var i = 0; i < documents.Count; i++)
            {
                var document = documents[i];
                if (document.Failure is { } failure)
                {
                    // Refused before submission (a file that could not be parsed): an item of the job, nothing else.
                    refused.Parameters["$id"].Value = document.DocumentId;
                    refused.Parameters["$error"].Value = failure;
                    await refused.ExecuteNonQueryAsync(cancellationToken);
                    tickets.Add(new DocumentTicket(document.DocumentId, null));
                    continue;
                }

                read.Parameters["$id"].Value = document.DocumentId;
                string? requestedHash = null;
                string? committedHash = null;
                var deleted = true;
                await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
                {
                    if (await reader.ReadAsync(cancellationToken))
                    {
                        requestedHash = reader.IsDBNull(0) ? null : reader.GetString(0);
                        committedHash = reader.IsDBNull(1) ? null : reader.GetString(1);
                        deleted = reader.GetInt64(2) != 0;
                    }
                }

                // Unchanged when the collection holds this content, or is already working towards it.
                if (!deleted && (requestedHash ?? committedHash) == document.DocumentHash)
                {
                    unchanged.Parameters["$id"].Value = document.DocumentId;
                    await unchanged.ExecuteNonQueryAsync(cancellationToken);
                    tickets.Add(new DocumentTicket(document.DocumentId, null));
                    continue;
                }

                var revision = firstRevision + i;
                request.Parameters["$id"].Value = document.DocumentId;
                request.Parameters["$rev"].Value = revision;
                request.Parameters["$hash"].Value = document.DocumentHash;
                await request.ExecuteNonQueryAsync(cancellationToken);
                await QueueAsync(queue, document.DocumentId, revision, cancellationToken);
                tickets.Add(new DocumentTicket(document.DocumentId, revision));
            }

            await MarkJobCompletedIfDoneAsync(connection, transaction, jobId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return tickets;
        }, cancellationToken);

    // The worker's lookups take a whole message's ids in one statement (a JSON array walked by json_each, each
    // element an index lookup) instead of one statement per id.
    public Task<IReadOnlyDictionary<string, DocumentState>> GetDocumentStatesAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken) =>
        WithReadConnection<IReadOnlyDictionary<string, DocumentState>>(async connection =>
        {
            var states = new Dictionary<string, DocumentState>(StringComparer.Ordinal);
            await using var command = Command(connection, null, """
                SELECT d.id, d.requested_revision, d.committed_revision, d.deleted, COALESCE(d.requested_hash, d.committed_hash)
                FROM json_each($ids) AS j CROSS JOIN documents AS d ON d.collection = $c AND d.id = j.value
                """, ("$c", collection), ("$ids", JsonSerializer.Serialize(documentIds, Json)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                states[id] = new DocumentState(id, reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3) != 0, reader.IsDBNull(4) ? null : reader.GetString(4));
            }

            return states;
        }, cancellationToken);

    public Task<IReadOnlyList<StoredChunk>> GetChunksAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken) =>
        WithReadConnection<IReadOnlyList<StoredChunk>>(async connection =>
        {
            var chunks = new List<StoredChunk>();
            await using var command = Command(connection, null, """
                SELECT c.point_id, c.document_id, c.ordinal, c.content_hash, c.payload_hash
                FROM json_each($ids) AS j CROSS JOIN chunks AS c ON c.collection = $c AND c.document_id = j.value
                ORDER BY j.key, c.ordinal
                """, ("$c", collection), ("$ids", JsonSerializer.Serialize(documentIds, Json)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chunks.Add(new StoredChunk(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4)));
            }

            return chunks;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> FindPointsByContentHashAsync(
        string collection, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken) =>
        WithReadConnection<IReadOnlyDictionary<string, string>>(async connection =>
        {
            var found = new Dictionary<string, string>(StringComparer.Ordinal);
            if (contentHashes.Count == 0)
            {
                return found;
            }

            await using var command = Command(connection, null, """
                SELECT j.value, (SELECT c.point_id FROM chunks AS c WHERE c.collection = $c AND c.content_hash = j.value LIMIT 1)
                FROM json_each($hashes) AS j
                """, ("$c", collection), ("$hashes", JsonSerializer.Serialize(contentHashes, Json)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (!reader.IsDBNull(1))
                {
                    found[reader.GetString(0)] = reader.GetString(1);
                }
            }

            return found;
        }, cancellationToken);

    public Task CompleteItemsAsync(string collection, Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new CompletedItems(collection, jobId, results, RecordItems: true), cancellationToken);

    public Task CommitChunksAsync(string collection, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new CompletedItems(collection, Guid.Empty, results, RecordItems: false), cancellationToken);

    public Task MarkChangedAsync(string collection, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            await BumpVersionAsync(connection, transaction, collection, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>Several callers' results in one transaction (see <see cref="WriteCombiner{TRequest}"/>).</summary>
    private Task CompleteBatchAsync(IReadOnlyList<CompletedItems> batch, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var now = Timestamp(DateTimeOffset.UtcNow);
            await using var item = JobItemCommand(connection, transaction);
            await using var deleteChunks = Command(connection, transaction,
                "DELETE FROM chunks WHERE collection = $c AND document_id = $id", ("$c", ""), ("$id", ""));
            await using var insertChunk = Command(connection, transaction, """
                INSERT OR REPLACE INTO chunks (collection, point_id, document_id, ordinal, content_hash, payload_hash)
                VALUES ($c, $point, $id, $ordinal, $content, $payload)
                """, ("$c", ""), ("$point", ""), ("$id", ""), ("$ordinal", 0), ("$content", ""), ("$payload", ""));
            await using var commitDocument = Command(connection, transaction, """
                UPDATE documents SET committed_revision = $rev, committed_hash = $hash, updated_at = $now
                WHERE collection = $c AND id = $id AND committed_revision < $rev
                """, ("$c", ""), ("$id", ""), ("$rev", 0L), ("$hash", ""), ("$now", now));
            await using var abandonRequest = Command(connection, transaction, """
                UPDATE documents SET requested_hash = committed_hash, updated_at = $now,
                  deleted = CASE WHEN committed_hash IS NULL AND committed_revision > 0 THEN 1 ELSE deleted END
                WHERE collection = $c AND id = $id AND requested_revision = $rev
                """, ("$c", ""), ("$id", ""), ("$rev", 0L), ("$now", now));

            await using var dequeue = DequeueCommand(connection, transaction);
            var changed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (collection, jobId, results, recordItems) in batch)
            {
                deleteChunks.Parameters["$c"].Value = collection;
                insertChunk.Parameters["$c"].Value = collection;
                commitDocument.Parameters["$c"].Value = collection;
                abandonRequest.Parameters["$c"].Value = collection;
                foreach (var result in results)
                {
                    if (recordItems)
                    {
                        await RecordItemAsync(item, dequeue, jobId, result, cancellationToken);
                    }

                    if (result.Outcome == JobItemOutcome.Succeeded)
                    {
                        // The chunk rows always mirror what the backend now holds for the document, even when a
                        // newer revision was requested meanwhile: that revision will diff against these rows.
                        deleteChunks.Parameters["$id"].Value = result.DocumentId;
                        await deleteChunks.ExecuteNonQueryAsync(cancellationToken);
                        foreach (var chunk in result.Chunks ?? [])
                        {
                            insertChunk.Parameters["$point"].Value = chunk.PointId;
                            insertChunk.Parameters["$id"].Value = chunk.DocumentId;
                            insertChunk.Parameters["$ordinal"].Value = chunk.Ordinal;
                            insertChunk.Parameters["$content"].Value = chunk.ContentHash;
                            insertChunk.Parameters["$payload"].Value = chunk.PayloadHash;
                            await insertChunk.ExecuteNonQueryAsync(cancellationToken);
                        }

                        commitDocument.Parameters["$id"].Value = result.DocumentId;
                        commitDocument.Parameters["$rev"].Value = result.Revision;
                        commitDocument.Parameters["$hash"].Value = result.DocumentHash ?? string.Empty;
                        await commitDocument.ExecuteNonQueryAsync(cancellationToken);
                        if (result.ChunksEmbedded + result.ChunksReused + result.ChunksDeleted > 0 || result.Chunks is { Count: > 0 })
                        {
                            changed.Add(collection);
                        }
                    }
                    else if (result.Outcome == JobItemOutcome.Failed && recordItems)
                    {
                        // Let a later re-post of the same content try again instead of counting as unchanged. A document
                        // deleted before this re-post (committed once, its hash cleared by the delete) stays deleted.
                        abandonRequest.Parameters["$id"].Value = result.DocumentId;
                        abandonRequest.Parameters["$rev"].Value = result.Revision;
                        await abandonRequest.ExecuteNonQueryAsync(cancellationToken);
                    }
                }
            }

            foreach (var collection in changed)
            {
                await BumpVersionAsync(connection, transaction, collection, cancellationToken);
            }

            foreach (var jobId in batch.Where(b => b.RecordItems).Select(b => b.JobId).Distinct())
            {
                await MarkJobCompletedIfDoneAsync(connection, transaction, jobId, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<DocumentListEntry>> ListDocumentsAsync(string collection, string? after, int limit, CancellationToken cancellationToken) =>
        WithReadConnection<IReadOnlyList<DocumentListEntry>>(async connection =>
        {
            // SQLite compares TEXT by its bytes (BINARY collation): UTF-8 order, which is ordinal code-point order.
            await using var command = Command(connection, null, """
                SELECT id, committed_revision > 0 FROM documents
                WHERE collection = $c AND deleted = 0 AND (committed_revision > 0 OR requested_hash IS NOT NULL) AND id > $after
                ORDER BY id LIMIT $limit
                """, ("$c", collection), ("$after", after ?? string.Empty), ("$limit", limit));
            var list = new List<DocumentListEntry>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(new DocumentListEntry(reader.GetString(0), reader.GetInt64(1) != 0));
            }

            return list;
        }, cancellationToken);

    public Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            // A tombstone with a fresh revision: any in-flight message for an older revision is skipped.
            await using var mark = Command(connection, transaction, """
                UPDATE documents SET deleted = 1, requested_hash = NULL, committed_hash = NULL,
                  requested_revision = (SELECT next_revision FROM collections WHERE name = $c),
                  updated_at = $now
                WHERE collection = $c AND id = $id AND deleted = 0
                """, ("$c", collection), ("$id", documentId), ("$now", Timestamp(DateTimeOffset.UtcNow)));
            var existed = await mark.ExecuteNonQueryAsync(cancellationToken) > 0;
            if (existed)
            {
                await using var bump = Command(connection, transaction,
                    "UPDATE collections SET next_revision = next_revision + 1 WHERE name = $c", ("$c", collection));
                await bump.ExecuteNonQueryAsync(cancellationToken);
                await using var chunks = Command(connection, transaction,
                    "DELETE FROM chunks WHERE collection = $c AND document_id = $id", ("$c", collection), ("$id", documentId));
                await chunks.ExecuteNonQueryAsync(cancellationToken);
                await BumpVersionAsync(connection, transaction, collection, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return existed;
        }, cancellationToken);

    public Task<JobStatus?> GetJobAsync(Guid jobId, CancellationToken cancellationToken) =>
        WithReadConnection(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT j.collection, j.total, j.created_at, j.completed_at,
                  COUNT(i.document_id),
                  COALESCE(SUM(i.outcome = 0), 0), COALESCE(SUM(i.outcome = 1), 0),
                  COALESCE(SUM(i.outcome = 2), 0), COALESCE(SUM(i.outcome = 3), 0),
                  COALESCE(SUM(i.chunks_embedded), 0), COALESCE(SUM(i.chunks_reused), 0),
                  COALESCE(SUM(i.chunks_unchanged), 0), COALESCE(SUM(i.chunks_deleted), 0)
                FROM jobs j LEFT JOIN job_items i ON i.job_id = j.id
                WHERE j.id = $id GROUP BY j.id
                """, ("$id", JobKey(jobId)));
            JobStatus? status = null;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                if (!await reader.ReadAsync(cancellationToken))
                {
                    return null;
                }

                status = JobStatusRules.FromSummaryRow(jobId, reader, static (row, column) => ParseTimestamp(row.GetString(column)));
            }

            await using var errors = Command(connection, null, """
                SELECT document_id, error FROM job_items WHERE job_id = $id AND outcome = 1 ORDER BY document_id LIMIT $max
                """, ("$id", JobKey(jobId)), ("$max", JobStatusRules.MaxListedErrors));
            await using (var reader = await errors.ExecuteReaderAsync(cancellationToken))
            {
                return status with { Errors = await JobStatusRules.ReadErrorsAsync(reader, cancellationToken) };
            }
        }, cancellationToken);

    public Task<IReadOnlyList<string>?> BeginReindexAsync(string collection, CollectionReindex reindex, CancellationToken cancellationToken) =>
        WithConnection<IReadOnlyList<string>?>(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var current = await ReadCollectionAsync(connection, transaction, collection, cancellationToken);
            if (current is null || current.Reindex is { IsRunning: true })
            {
                return null;
            }

            var documents = new List<string>();
            await using (var read = Command(connection, transaction,
                "SELECT id FROM documents WHERE collection = $c AND deleted = 0 ORDER BY id", ("$c", collection)))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    documents.Add(reader.GetString(0));
                }
            }

            var now = Timestamp(DateTimeOffset.UtcNow);
            await using (var job = Command(connection, transaction,
                "INSERT INTO jobs (id, collection, total, created_at) VALUES ($id, $c, $total, $now)",
                ("$id", JobKey(reindex.JobId)), ("$c", collection), ("$total", documents.Count), ("$now", now)))
            {
                await job.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var queue = QueueCommand(connection, transaction, reindex.JobId))
            {
                foreach (var document in documents)
                {
                    await QueueAsync(queue, document, 0, cancellationToken);
                }
            }

            await SetReindexAsync(connection, transaction, collection, reindex, cancellationToken);
            await MarkJobCompletedIfDoneAsync(connection, transaction, reindex.JobId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return documents;
        }, cancellationToken);

    public Task RecordJobItemsAsync(Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            await using var item = JobItemCommand(connection, transaction);
            await using var dequeue = DequeueCommand(connection, transaction);
            foreach (var result in results)
            {
                await RecordItemAsync(item, dequeue, jobId, result, cancellationToken);
            }

            await MarkJobCompletedIfDoneAsync(connection, transaction, jobId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> FailReindexAsync(string collection, Guid jobId, string error, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var current = await ReadCollectionAsync(connection, transaction, collection, cancellationToken);
            if (current?.Reindex is not { IsRunning: true } reindex || reindex.JobId != jobId)
            {
                return false;
            }

            await SetReindexAsync(connection, transaction, collection, reindex with { State = ReindexStates.Failed, Error = error }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> SwitchVersionAsync(string collection, Guid jobId, RetiredVersion retired, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var current = await ReadCollectionAsync(connection, transaction, collection, cancellationToken);
            if (current?.Reindex is not { IsRunning: true } reindex || reindex.JobId != jobId)
            {
                return false;
            }

            await using var update = Command(connection, transaction, """
                UPDATE collections SET active_version = $active, settings = $settings, fingerprint = $fingerprint,
                  reindex = NULL, retired = $retired, version = version + 1, updated_at = $now
                WHERE name = $c
                """,
                ("$c", collection), ("$active", reindex.TargetVersion), ("$settings", JsonSerializer.Serialize(reindex.Settings, Json)),
                ("$fingerprint", reindex.Fingerprint), ("$retired", JsonSerializer.Serialize(retired, Json)), ("$now", Timestamp(DateTimeOffset.UtcNow)));
            await update.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> ClearRetiredAsync(string collection, int version, CancellationToken cancellationToken) =>
        WithConnection(async connection =>
        {
            await using var transaction = connection.BeginTransaction();
            var current = await ReadCollectionAsync(connection, transaction, collection, cancellationToken);
            if (current?.Retired?.Version != version)
            {
                return false;
            }

            await using var update = Command(connection, transaction, "UPDATE collections SET retired = NULL WHERE name = $c", ("$c", collection));
            await update.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// For a process whose bus kept its messages in memory, after it stopped without finishing its work (a crash): every
    /// document a job queued that no worker recorded fails in its job with <paramref name="reason"/> (an ingest's
    /// request is withdrawn, so posting the document again retries it), so the job ends instead of running forever. A
    /// document whose revision the worker had already committed (it stopped between the chunk rows and the job's items,
    /// see <see cref="CommitChunksAsync"/>) counts as succeeded. With a durable broker (RabbitMQ) the queued messages are
    /// still delivered and this must not run.
    /// </summary>
    /// <returns>The jobs that had documents failed, each with its collection and how many.</returns>
    public async Task<IReadOnlyList<InterruptedJob>> FailQueuedItemsAsync(string reason, CancellationToken cancellationToken)
    {
        var queued = await WithConnection<List<(string Collection, Guid JobId, string DocumentId, long Revision, bool Committed)>>(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT j.collection, q.job_id, q.document_id, q.revision, q.revision > 0 AND d.committed_revision = q.revision
                FROM queued_items AS q JOIN jobs AS j ON j.id = q.job_id
                LEFT JOIN documents AS d ON d.collection = j.collection AND d.id = q.document_id
                ORDER BY q.job_id, q.document_id
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<(string, Guid, string, long, bool)>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add((reader.GetString(0), Guid.ParseExact(reader.GetString(1), "N"), reader.GetString(2), reader.GetInt64(3),
                    !reader.IsDBNull(4) && reader.GetBoolean(4)));
            }

            return list;
        }, cancellationToken);

        var jobs = new List<InterruptedJob>();
        foreach (var job in queued.GroupBy(q => (q.Collection, q.JobId)))
        {
            var committed = job.Where(q => q.Committed)
                .Select(q => new JobItemResult(q.DocumentId, q.Revision, JobItemOutcome.Succeeded)).ToList();
            if (committed.Count > 0)
            {
                await RecordJobItemsAsync(job.Key.JobId, committed, cancellationToken);
            }

            var unfinished = job.Where(q => !q.Committed).ToList();
            if (unfinished.Count == 0)
            {
                continue;
            }

            // Revision 0 marks a re-index's copy (its items leave documents and chunk rows alone); an ingest's
            // failed items also withdraw their documents' requests.
            var reindex = unfinished.All(q => q.Revision == 0);
            var results = unfinished.Select(q => new JobItemResult(q.DocumentId, q.Revision, JobItemOutcome.Failed, reason)).ToList();
            if (reindex)
            {
                await RecordJobItemsAsync(job.Key.JobId, results, cancellationToken);
            }
            else
            {
                await CompleteBatchAsync([new CompletedItems(job.Key.Collection, job.Key.JobId, results, RecordItems: true)], cancellationToken);
            }

            jobs.Add(new InterruptedJob(job.Key.Collection, job.Key.JobId, results.Count, reindex));
        }

        return jobs;
    }

    /// <summary>Every point id the collection's chunk rows name: what its vectors and lexical entries must be.</summary>
    public Task<IReadOnlyList<string>> ListPointIdsAsync(string collection, CancellationToken cancellationToken) =>
        WithReadConnection<IReadOnlyList<string>>(async connection =>
        {
            await using var command = Command(connection, null, "SELECT point_id FROM chunks WHERE collection = $c", ("$c", collection));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var ids = new List<string>();
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    /// <summary>Remembers that a job queued a document (until a worker records it): what <see cref="FailQueuedItemsAsync"/> finds.</summary>
    private static SqliteCommand QueueCommand(SqliteConnection connection, SqliteTransaction transaction, Guid jobId) =>
        Command(connection, transaction, "INSERT OR REPLACE INTO queued_items (job_id, document_id, revision) VALUES ($job, $id, $rev)",
            ("$job", JobKey(jobId)), ("$id", ""), ("$rev", 0L));

    private static async Task QueueAsync(SqliteCommand queue, string documentId, long revision, CancellationToken cancellationToken)
    {
        queue.Parameters["$id"].Value = documentId;
        queue.Parameters["$rev"].Value = revision;
        await queue.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SqliteCommand JobItemCommand(SqliteConnection connection, SqliteTransaction transaction) =>
        Command(connection, transaction, """
            INSERT OR IGNORE INTO job_items (job_id, document_id, outcome, error, chunks_embedded, chunks_reused, chunks_unchanged, chunks_deleted)
            VALUES ($job, $id, $outcome, $error, $embedded, $reused, $unchanged, $deleted)
            """, ("$job", ""), ("$id", ""), ("$outcome", 0), ("$error", null), ("$embedded", 0L), ("$reused", 0L), ("$unchanged", 0L), ("$deleted", 0L));

    /// <summary>Counts a document's outcome in its job (once, even if a message is redelivered) and takes it off the queue.</summary>
    private static async Task RecordItemAsync(SqliteCommand item, SqliteCommand dequeue, Guid jobId, JobItemResult result, CancellationToken cancellationToken)
    {
        item.Parameters["$job"].Value = JobKey(jobId);
        item.Parameters["$id"].Value = result.DocumentId;
        item.Parameters["$outcome"].Value = (int)result.Outcome;
        item.Parameters["$error"].Value = (object?)result.Error ?? DBNull.Value;
        item.Parameters["$embedded"].Value = result.ChunksEmbedded;
        item.Parameters["$reused"].Value = result.ChunksReused;
        item.Parameters["$unchanged"].Value = result.ChunksUnchanged;
        item.Parameters["$deleted"].Value = result.ChunksDeleted;
        await item.ExecuteNonQueryAsync(cancellationToken);
        dequeue.Parameters["$job"].Value = JobKey(jobId);
        dequeue.Parameters["$id"].Value = result.DocumentId;
        await dequeue.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SqliteCommand DequeueCommand(SqliteConnection connection, SqliteTransaction transaction) =>
        Command(connection, transaction, "DELETE FROM queued_items WHERE job_id = $job AND document_id = $id", ("$job", ""), ("$id", ""));

    /// <summary>Closes the file. Idempotent: the container disposes the store once per interface it is registered as.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            await _readGate.WaitAsync();
            try
            {
                if (_readConnection is not null)
                {
                    await _readConnection.DisposeAsync();
                    _readConnection = null;
                }
            }
            finally
            {
                _readGate.Release();
                _readGate.Dispose();
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    /// <summary>A read-only query on the reading connection: it sees what was committed when it starts.</summary>
    private async Task<T> WithReadConnection<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            return await work(_readConnection ?? throw new InvalidOperationException("The metadata store is not initialised."));
        }
        finally
        {
            _readGate.Release();
        }
    }

    private async Task<T> WithConnection<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await work(_connection ?? throw new InvalidOperationException("The metadata store is not initialised."));
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task MarkJobCompletedIfDoneAsync(SqliteConnection connection, SqliteTransaction transaction, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, """
            UPDATE jobs SET completed_at = $now
            WHERE id = $id AND completed_at IS NULL
              AND total <= (SELECT COUNT(*) FROM job_items WHERE job_id = $id)
            """, ("$id", JobKey(jobId)), ("$now", Timestamp(DateTimeOffset.UtcNow)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task BumpVersionAsync(SqliteConnection connection, SqliteTransaction transaction, string collection, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "UPDATE collections SET version = version + 1, updated_at = $now WHERE name = $c",
            ("$c", collection), ("$now", Timestamp(DateTimeOffset.UtcNow)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<CollectionRecord?> ReadCollectionAsync(
        SqliteConnection connection, SqliteTransaction transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT {CollectionColumns} FROM collections WHERE name = $name", ("$name", name));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCollection(reader) : null;
    }

    private static async Task SetReindexAsync(
        SqliteConnection connection, SqliteTransaction transaction, string collection, CollectionReindex reindex, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "UPDATE collections SET reindex = $reindex, updated_at = $now WHERE name = $c",
            ("$c", collection), ("$reindex", JsonSerializer.Serialize(reindex, Json)), ("$now", Timestamp(DateTimeOffset.UtcNow)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static CollectionRecord ReadCollection(SqliteDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<CollectionSettings>(reader.GetString(1), Json)
            ?? throw new InvalidDataException($"Collection '{reader.GetString(0)}' has no settings."),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetInt64(3),
        ParseTimestamp(reader.GetString(4)),
        ParseTimestamp(reader.GetString(5)),
        reader.GetInt32(6),
        reader.IsDBNull(7) ? null : JsonSerializer.Deserialize<CollectionReindex>(reader.GetString(7), Json),
        reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<RetiredVersion>(reader.GetString(8), Json));

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string JobKey(Guid jobId) => jobId.ToString("N");

    private static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

/// <summary>A job whose queued documents were failed because the process that held their messages stopped (see
/// <see cref="SqliteMetadataStore.FailQueuedItemsAsync"/>).</summary>
public sealed record InterruptedJob(string Collection, Guid JobId, int Documents, bool Reindex);
