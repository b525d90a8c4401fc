using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

/// <summary>
/// The distributed metadata store: the same bookkeeping as the embedded <c>SqliteMetadataStore</c> (RagPlatform.Storage.Sqlite), shared by
/// every process through PostgreSQL. SQLite gets its serialisation from one connection; here concurrent
/// workers are made safe by row locks taken in one order, so no two transactions wait on each other in a
/// cycle: the job row (completion), then document rows by id, then the collection row (revisions,
/// version) last, so it is held only briefly. Job items are keyed by (job, document), so a redelivered
/// result is counted once. Multi-row changes are set-based statements sent as one batch.
/// </summary>
public sealed class PostgresMetadataStore(NpgsqlDataSource dataSource, PostgresSchemaMigrator migrator) : IMetadataStore
{
    private const string CollectionColumns = "name, settings, fingerprint, version, created_at, updated_at, active_version, reindex, retired";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task InitializeAsync(CancellationToken cancellationToken) => migrator.EnsureAsync(cancellationToken);

    public async Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {CollectionColumns} FROM collections WHERE name = $1");
        command.Parameters.AddWithValue(name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCollection(reader) : null;
    }

    public async Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {CollectionColumns} FROM collections ORDER BY name COLLATE \"C\"");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<CollectionRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadCollection(reader));
        }

        return list;
    }

    public async Task<bool> TryCreateCollectionAsync(CollectionRecord collection, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO collections (name, settings, fingerprint, version, created_at, updated_at)
            VALUES ($1, $2, $3, 0, $4, $4) ON CONFLICT (name) DO NOTHING
            """);
        command.Parameters.AddWithValue(collection.Name);
        command.Parameters.AddWithValue(JsonSerializer.Serialize(collection.Settings, Json));
        command.Parameters.Add(Text(collection.Fingerprint));
        command.Parameters.AddWithValue(collection.CreatedAt.ToUniversalTime());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task UpdateCollectionAsync(string name, CollectionSettings settings, string? fingerprint, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE collections SET settings = $2, fingerprint = $3, updated_at = now() WHERE name = $1");
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(JsonSerializer.Serialize(settings, Json));
        command.Parameters.Add(Text(fingerprint));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken)
    {
        // Documents, chunks, jobs and job items go by ON DELETE CASCADE.
        await using var command = dataSource.CreateCommand("DELETE FROM collections WHERE name = $1");
        command.Parameters.AddWithValue(name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<CollectionCounts> GetCountsAsync(string collection, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT
              (SELECT COUNT(*) FROM documents WHERE collection = $1 AND NOT deleted AND committed_revision > 0),
              (SELECT COUNT(*) FROM chunks WHERE collection = $1),
              (SELECT COUNT(*) FROM documents WHERE collection = $1 AND NOT deleted
                  AND requested_hash IS NOT NULL AND requested_hash IS DISTINCT FROM committed_hash)
            """);
        command.Parameters.AddWithValue(collection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new CollectionCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    public async Task<IReadOnlyList<DocumentTicket>> SubmitAsync(
        string collection, Guid jobId, IReadOnlyList<DocumentRequest> documents, CancellationToken cancellationToken)
    {
        var ids = documents.Select(d => d.DocumentId).Distinct(StringComparer.Ordinal).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var job = Command(connection, transaction,
            "INSERT INTO jobs (id, collection, total, created_at) VALUES ($1, $2, $3, now())",
            jobId, collection, documents.Count))
        {
            await job.ExecuteNonQueryAsync(cancellationToken);
        }

        // Lock order: existing document rows (by id), then the collection row. A worker failing one of these
        // documents meanwhile changes what "unchanged" means, so its update lands before or after this
        // decision, not during it. The collection row hands out revisions, and holding it makes submissions
        // to one collection decide in turn, so two jobs never both claim a new document.
        await using (var lockRows = Command(connection, transaction,
            "SELECT 1 FROM documents WHERE collection = $1 AND id = ANY($2) ORDER BY id COLLATE \"C\" FOR UPDATE", collection, ids))
        {
            await lockRows.ExecuteNonQueryAsync(cancellationToken);
        }

        long firstRevision;
        await using (var next = Command(connection, transaction,
            "UPDATE collections SET next_revision = next_revision + $2 WHERE name = $1 RETURNING next_revision - $2",
            collection, (long)documents.Count))
        {
            firstRevision = await next.ExecuteScalarAsync(cancellationToken) as long?
                ?? throw new InvalidOperationException($"Collection '{collection}' vanished during submission.");
        }

        // Read after the collection lock: a concurrent submission of the same documents has committed by now.
        var held = new Dictionary<string, (string? Hash, bool Deleted)>(StringComparer.Ordinal);
        await using (var read = Command(connection, transaction,
            "SELECT id, COALESCE(requested_hash, committed_hash), deleted FROM documents WHERE collection = $1 AND id = ANY($2)", collection, ids))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                held[reader.GetString(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2));
            }
        }

        var tickets = new List<DocumentTicket>(documents.Count);
        var requested = new Dictionary<string, (long Revision, string Hash)>(StringComparer.Ordinal);
        var unchanged = new List<string>();
        var refused = new List<(string Id, string Failure)>();
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            if (document.Failure is { } failure)
            {
                // Refused before submission (a file that could not be parsed): an item of the job, nothing else.
                refused.Add((document.DocumentId, failure));
                tickets.Add(new DocumentTicket(document.DocumentId, null));
                continue;
            }

            // Unchanged when the collection holds this content, or is already working towards it.
            if (held.TryGetValue(document.DocumentId, out var state) && !state.Deleted && state.Hash == document.DocumentHash)
            {
                unchanged.Add(document.DocumentId);
                tickets.Add(new DocumentTicket(document.DocumentId, null));
                continue;
            }

            var revision = firstRevision + i;
            requested[document.DocumentId] = (revision, document.DocumentHash);
            held[document.DocumentId] = (document.DocumentHash, false);
            tickets.Add(new DocumentTicket(document.DocumentId, revision));
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(BatchCommand("""
            INSERT INTO documents (collection, id, requested_revision, requested_hash, updated_at)
            SELECT $1, r.id, r.revision, r.hash, now() FROM unnest($2::text[], $3::bigint[], $4::text[]) AS r(id, revision, hash)
            ON CONFLICT (collection, id) DO UPDATE SET
              requested_revision = excluded.requested_revision,
              requested_hash = excluded.requested_hash,
              deleted = false,
              updated_at = excluded.updated_at
            """, collection, requested.Keys.ToArray(), requested.Values.Select(r => r.Revision).ToArray(), requested.Values.Select(r => r.Hash).ToArray()));
        batch.BatchCommands.Add(BatchCommand(
            "INSERT INTO job_items (job_id, document_id, outcome) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
            jobId, unchanged.ToArray(), (short)JobItemOutcome.Unchanged));
        if (refused.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand(
                "INSERT INTO job_items (job_id, document_id, outcome, error) SELECT $1, r.id, $3, r.error FROM unnest($2::text[], $4::text[]) AS r(id, error) ON CONFLICT DO NOTHING",
                jobId, refused.Select(r => r.Id).ToArray(), (short)JobItemOutcome.Failed, refused.Select(r => r.Failure).ToArray()));
        }

        batch.BatchCommands.Add(MarkJobCompletedIfDone(jobId));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return tickets;
    }

    public async Task<IReadOnlyDictionary<string, DocumentState>> GetDocumentStatesAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, DocumentState>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand(
            "SELECT id, requested_revision, committed_revision, deleted, COALESCE(requested_hash, committed_hash) FROM documents WHERE collection = $1 AND id = ANY($2)");
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(documentIds.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            states[id] = new DocumentState(id, reader.GetInt64(1), reader.GetInt64(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4));
        }

        return states;
    }

    public async Task<IReadOnlyList<StoredChunk>> GetChunksAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken)
    {
        // In the order the documents were asked for, each by ordinal, as the SQLite store answers.
        await using var command = dataSource.CreateCommand("""
            SELECT c.point_id, c.document_id, c.ordinal, c.content_hash, c.payload_hash
            FROM unnest($2::text[]) WITH ORDINALITY AS d(id, position)
            JOIN chunks c ON c.collection = $1 AND c.document_id = d.id
            ORDER BY d.position, c.ordinal
            """);
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(documentIds.ToArray());
        var chunks = new List<StoredChunk>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chunks.Add(new StoredChunk(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4)));
        }

        return chunks;
    }

    public async Task<IReadOnlyDictionary<string, string>> FindPointsByContentHashAsync(
        string collection, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (content_hash) content_hash, point_id FROM chunks
            WHERE collection = $1 AND content_hash = ANY($2)
            ORDER BY content_hash, point_id
            """);
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(contentHashes.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = reader.GetString(1);
        }

        return found;
    }

    public Task CompleteItemsAsync(string collection, Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        WriteResultsAsync(collection, jobId, results, cancellationToken);

    public Task CommitChunksAsync(string collection, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        WriteResultsAsync(collection, jobId: null, results, cancellationToken);

    public async Task MarkChangedAsync(string collection, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(BumpVersion(collection));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A job's results (<see cref="CompleteItemsAsync"/>), or without a job only the chunk rows and revisions (<see cref="CommitChunksAsync"/>).</summary>
    private async Task WriteResultsAsync(string collection, Guid? jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken)
    {
        // A document listed twice counts by its first result (as a redelivery would) and ends as its last
        // successful one left it; the worker never sends such a batch.
        var succeeded = results.Where(r => r.Outcome == JobItemOutcome.Succeeded)
            .GroupBy(r => r.DocumentId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var failed = jobId is null ? [] : results.Where(r => r.Outcome == JobItemOutcome.Failed).ToList();
        var chunks = succeeded.SelectMany(r => r.Chunks ?? []).GroupBy(c => c.PointId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var changed = succeeded.Any(r => r.ChunksEmbedded + r.ChunksReused + r.ChunksDeleted > 0 || r.Chunks is { Count: > 0 });
        var items = results.GroupBy(r => r.DocumentId, StringComparer.Ordinal).Select(g => g.First()).ToList();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // Lock order: the job row (two workers finishing its last items take turns, so the second sees the
        // first's items and marks the job completed), then the document rows by id, the collection row last.
        if (jobId is not null)
        {
            batch.BatchCommands.Add(BatchCommand("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", jobId.Value));
        }

        batch.BatchCommands.Add(BatchCommand(
            "SELECT 1 FROM documents WHERE collection = $1 AND id = ANY($2) ORDER BY id COLLATE \"C\" FOR UPDATE",
            collection, items.Select(r => r.DocumentId).ToArray()));
        if (jobId is not null)
        {
            batch.BatchCommands.Add(BatchCommand("""
                INSERT INTO job_items (job_id, document_id, outcome, error, chunks_embedded, chunks_reused, chunks_unchanged, chunks_deleted)
                SELECT $1, * FROM unnest($2::text[], $3::smallint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
                ON CONFLICT (job_id, document_id) DO NOTHING
                """,
                jobId.Value,
                items.Select(r => r.DocumentId).ToArray(),
                items.Select(r => (short)r.Outcome).ToArray(),
                items.Select(r => r.Error).ToArray(),
                items.Select(r => r.ChunksEmbedded).ToArray(),
                items.Select(r => r.ChunksReused).ToArray(),
                items.Select(r => r.ChunksUnchanged).ToArray(),
                items.Select(r => r.ChunksDeleted).ToArray()));
        }

        if (succeeded.Count > 0)
        {
            // The chunk rows always mirror what the backend now holds for the document, even when a newer
            // revision was requested meanwhile: that revision will diff against these rows.
            batch.BatchCommands.Add(BatchCommand(
                "DELETE FROM chunks WHERE collection = $1 AND document_id = ANY($2)", collection, succeeded.Select(r => r.DocumentId).ToArray()));
            batch.BatchCommands.Add(BatchCommand("""
                INSERT INTO chunks (collection, point_id, document_id, ordinal, content_hash, payload_hash)
                SELECT $1, * FROM unnest($2::text[], $3::text[], $4::integer[], $5::text[], $6::text[])
                ON CONFLICT (collection, point_id) DO UPDATE SET
                  document_id = excluded.document_id, ordinal = excluded.ordinal,
                  content_hash = excluded.content_hash, payload_hash = excluded.payload_hash
                """,
                collection,
                chunks.Select(c => c.PointId).ToArray(),
                chunks.Select(c => c.DocumentId).ToArray(),
                chunks.Select(c => c.Ordinal).ToArray(),
                chunks.Select(c => c.ContentHash).ToArray(),
                chunks.Select(c => c.PayloadHash).ToArray()));
            // A commit only moves a document forward: a late result for an older revision changes nothing.
            batch.BatchCommands.Add(BatchCommand("""
                UPDATE documents d SET committed_revision = u.revision, committed_hash = u.hash, committed_at = now(), updated_at = now()
                FROM unnest($2::text[], $3::bigint[], $4::text[]) AS u(id, revision, hash)
                WHERE d.collection = $1 AND d.id = u.id AND d.committed_revision < u.revision
                """,
                collection,
                succeeded.Select(r => r.DocumentId).ToArray(),
                succeeded.Select(r => r.Revision).ToArray(),
                succeeded.Select(r => r.DocumentHash ?? string.Empty).ToArray()));
        }

        if (failed.Count > 0)
        {
            // Let a later re-post of the same content try again instead of counting as unchanged. A document deleted
            // before this re-post (committed once, its hash cleared by the delete) stays deleted.
            batch.BatchCommands.Add(BatchCommand("""
                UPDATE documents d SET requested_hash = d.committed_hash, updated_at = now(),
                  deleted = d.deleted OR (d.committed_hash IS NULL AND d.committed_revision > 0)
                FROM unnest($2::text[], $3::bigint[]) AS u(id, revision)
                WHERE d.collection = $1 AND d.id = u.id AND d.requested_revision = u.revision
                """,
                collection, failed.Select(r => r.DocumentId).ToArray(), failed.Select(r => r.Revision).ToArray()));
        }

        if (changed)
        {
            batch.BatchCommands.Add(BumpVersion(collection));
        }

        if (jobId is not null)
        {
            batch.BatchCommands.Add(MarkJobCompletedIfDone(jobId.Value));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DocumentListEntry>> ListDocumentsAsync(string collection, string? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, committed_revision > 0 FROM documents
            WHERE collection = $1 AND NOT deleted AND (committed_revision > 0 OR requested_hash IS NOT NULL) AND id COLLATE "C" > $2
            ORDER BY id COLLATE "C" LIMIT $3
            """);
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(after ?? string.Empty);
        command.Parameters.AddWithValue(limit);
        var list = new List<DocumentListEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DocumentListEntry(reader.GetString(0), reader.GetBoolean(1)));
        }

        return list;
    }

    public async Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Lock order: the document row, then the collection row (which hands out the tombstone's revision).
        await using (var lockRow = Command(connection, transaction,
            "SELECT 1 FROM documents WHERE collection = $1 AND id = $2 AND NOT deleted FOR UPDATE", collection, documentId))
        {
            if (await lockRow.ExecuteScalarAsync(cancellationToken) is null)
            {
                return false;
            }
        }

        // A tombstone with a fresh revision: any in-flight message for an older revision is skipped.
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(BatchCommand("""
            WITH revision AS (UPDATE collections SET next_revision = next_revision + 1 WHERE name = $1 RETURNING next_revision - 1 AS value)
            UPDATE documents SET deleted = true, requested_hash = NULL, committed_hash = NULL,
              requested_revision = (SELECT value FROM revision), updated_at = now()
            WHERE collection = $1 AND id = $2
            """, collection, documentId));
        batch.BatchCommands.Add(BatchCommand("DELETE FROM chunks WHERE collection = $1 AND document_id = $2", collection, documentId));
        batch.BatchCommands.Add(BumpVersion(collection));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<JobStatus?> GetJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the counts and the error list.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var command = Command(connection, transaction, """
            SELECT j.collection, j.total, j.created_at, j.completed_at,
              COUNT(i.document_id)::integer,
              (COUNT(*) FILTER (WHERE i.outcome = 0))::integer, (COUNT(*) FILTER (WHERE i.outcome = 1))::integer,
              (COUNT(*) FILTER (WHERE i.outcome = 2))::integer, (COUNT(*) FILTER (WHERE i.outcome = 3))::integer,
              COALESCE(SUM(i.chunks_embedded), 0)::bigint, COALESCE(SUM(i.chunks_reused), 0)::bigint,
              COALESCE(SUM(i.chunks_unchanged), 0)::bigint, COALESCE(SUM(i.chunks_deleted), 0)::bigint
            FROM jobs j LEFT JOIN job_items i ON i.job_id = j.id
            WHERE j.id = $1 GROUP BY j.id
            """, jobId);
        JobStatus status;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            status = JobStatusRules.FromSummaryRow(jobId, reader, static (row, column) => Timestamp((NpgsqlDataReader)row, column));
        }

        await using var errors = Command(connection, transaction, """
            SELECT document_id, error FROM job_items WHERE job_id = $1 AND outcome = 1 ORDER BY document_id COLLATE "C" LIMIT $2
            """, jobId, JobStatusRules.MaxListedErrors);
        IReadOnlyList<JobItemError> list;
        await using (var reader = await errors.ExecuteReaderAsync(cancellationToken))
        {
            list = await JobStatusRules.ReadErrorsAsync(reader, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return status with { Errors = list };
    }

    public async Task<IReadOnlyList<string>?> BeginReindexAsync(string collection, CollectionReindex reindex, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The collection row first: two re-index requests take turns, and the second finds the first running.
        var current = await LockCollectionAsync(connection, transaction, collection, cancellationToken);
        if (current is null || current.Reindex is { IsRunning: true })
        {
            return null;
        }

        var documents = new List<string>();
        await using (var read = Command(connection, transaction,
            "SELECT id FROM documents WHERE collection = $1 AND NOT deleted ORDER BY id COLLATE \"C\"", collection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                documents.Add(reader.GetString(0));
            }
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(BatchCommand("INSERT INTO jobs (id, collection, total, created_at) VALUES ($1, $2, $3, now())",
            reindex.JobId, collection, documents.Count));
        batch.BatchCommands.Add(BatchCommand("UPDATE collections SET reindex = $2, updated_at = now() WHERE name = $1",
            collection, JsonSerializer.Serialize(reindex, Json)));
        batch.BatchCommands.Add(MarkJobCompletedIfDone(reindex.JobId));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return documents;
    }

    public async Task RecordJobItemsAsync(Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken)
    {
        var items = results.GroupBy(r => r.DocumentId, StringComparer.Ordinal).Select(g => g.First()).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(BatchCommand("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", jobId));
        batch.BatchCommands.Add(BatchCommand("""
            INSERT INTO job_items (job_id, document_id, outcome, error, chunks_embedded, chunks_reused, chunks_unchanged, chunks_deleted)
            SELECT $1, d, o, e, m, r, 0, x FROM unnest($2::text[], $3::smallint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(d, o, e, m, r, x)
            ON CONFLICT (job_id, document_id) DO NOTHING
            """,
            jobId,
            items.Select(r => r.DocumentId).ToArray(),
            items.Select(r => (short)r.Outcome).ToArray(),
            items.Select(r => r.Error).ToArray(),
            items.Select(r => r.ChunksEmbedded).ToArray(),
            items.Select(r => r.ChunksReused).ToArray(),
            items.Select(r => r.ChunksDeleted).ToArray()));
        batch.BatchCommands.Add(MarkJobCompletedIfDone(jobId));
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> FailReindexAsync(string collection, Guid jobId, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockCollectionAsync(connection, transaction, collection, cancellationToken);
        if (current?.Reindex is not { IsRunning: true } reindex || reindex.JobId != jobId)
        {
            return false;
        }

        await using (var update = Command(connection, transaction, "UPDATE collections SET reindex = $2, updated_at = now() WHERE name = $1",
            collection, JsonSerializer.Serialize(reindex with { State = ReindexStates.Failed, Error = error }, Json)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> SwitchVersionAsync(string collection, Guid jobId, RetiredVersion retired, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockCollectionAsync(connection, transaction, collection, cancellationToken);
        if (current?.Reindex is not { IsRunning: true } reindex || reindex.JobId != jobId)
        {
            return false;
        }

        await using (var update = Command(connection, transaction, """
            UPDATE collections SET active_version = $2, settings = $3, fingerprint = $4, reindex = NULL, retired = $5,
              version = version + 1, updated_at = now()
            WHERE name = $1
            """,
            collection, reindex.TargetVersion, JsonSerializer.Serialize(reindex.Settings, Json), reindex.Fingerprint, JsonSerializer.Serialize(retired, Json)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> ClearRetiredAsync(string collection, int version, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockCollectionAsync(connection, transaction, collection, cancellationToken);
        if (current?.Retired?.Version != version)
        {
            return false;
        }

        await using (var update = Command(connection, transaction, "UPDATE collections SET retired = NULL WHERE name = $1", collection))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<CollectionRecord?> LockCollectionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string collection, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT {CollectionColumns} FROM collections WHERE name = $1 FOR UPDATE", collection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCollection(reader) : null;
    }

    private static NpgsqlBatchCommand MarkJobCompletedIfDone(Guid jobId) => BatchCommand("""
        UPDATE jobs SET completed_at = now()
        WHERE id = $1 AND completed_at IS NULL
          AND total <= (SELECT COUNT(*) FROM job_items WHERE job_id = $1)
        """, jobId);

    private static NpgsqlBatchCommand BumpVersion(string collection) =>
        BatchCommand("UPDATE collections SET version = version + 1, updated_at = now() WHERE name = $1", collection);

    private static CollectionRecord ReadCollection(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<CollectionSettings>(reader.GetString(1), Json)
            ?? throw new InvalidDataException($"Collection '{reader.GetString(0)}' has no settings."),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetInt64(3),
        Timestamp(reader, 4),
        Timestamp(reader, 5),
        reader.GetInt32(6),
        reader.IsDBNull(7) ? null : JsonSerializer.Deserialize<CollectionReindex>(reader.GetString(7), Json),
        reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<RetiredVersion>(reader.GetString(8), Json));

    private static DateTimeOffset Timestamp(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlBatchCommand BatchCommand(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>A command with positional parameters ($1, $2, …).</summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params object[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
