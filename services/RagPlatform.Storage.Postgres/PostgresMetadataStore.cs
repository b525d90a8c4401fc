using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

/// <summary>
/// The distributed metadata store: the same bookkeeping as <see cref="SqliteMetadataStore"/>, shared by
/// every process through PostgreSQL. SQLite gets its serialisation from one connection; here concurrent
/// workers are made safe by row locks taken in one order, so no two transactions wait on each other in a
/// cycle: the collection row (revisions, version), then the job row (completion), then document rows by
/// id. Job items are keyed by (job, document), so a redelivered result is counted once.
/// </summary>
public sealed class PostgresMetadataStore(NpgsqlDataSource dataSource, PostgresSchemaMigrator migrator) : IMetadataStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task InitializeAsync(CancellationToken cancellationToken) => migrator.EnsureAsync(cancellationToken);

    public async Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT name, settings, fingerprint, version, created_at, updated_at FROM collections WHERE name = $1");
        command.Parameters.AddWithValue(name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCollection(reader) : null;
    }

    public async Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT name, settings, fingerprint, version, created_at, updated_at FROM collections ORDER BY name COLLATE \"C\"");
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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The collection row first: it hands out revisions, and holding it makes submissions to one
        // collection take turns, so two jobs never both decide a new document is theirs.
        long firstRevision;
        await using (var next = Command(connection, transaction,
            "UPDATE collections SET next_revision = next_revision + $2 WHERE name = $1 RETURNING next_revision - $2",
            collection, (long)documents.Count))
        {
            firstRevision = await next.ExecuteScalarAsync(cancellationToken) as long?
                ?? throw new InvalidOperationException($"Collection '{collection}' vanished during submission.");
        }

        await using (var job = Command(connection, transaction,
            "INSERT INTO jobs (id, collection, total, created_at) VALUES ($1, $2, $3, now())",
            jobId, collection, documents.Count))
        {
            await job.ExecuteNonQueryAsync(cancellationToken);
        }

        // Then the existing document rows, in id order: a worker failing one of them meanwhile changes what
        // "unchanged" means, so its update must land before or after this decision, not during it.
        await using (var lockRows = Command(connection, transaction, """
            SELECT 1 FROM documents WHERE collection = $1 AND id = ANY($2) ORDER BY id COLLATE "C" FOR UPDATE
            """, collection, documents.Select(d => d.DocumentId).Distinct(StringComparer.Ordinal).ToArray()))
        {
            await lockRows.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var read = Command(connection, transaction,
            "SELECT requested_hash, committed_hash, deleted FROM documents WHERE collection = $1 AND id = $2",
            collection, string.Empty);
        await using var request = Command(connection, transaction, """
            INSERT INTO documents (collection, id, requested_revision, requested_hash, updated_at)
            VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (collection, id) DO UPDATE SET
              requested_revision = excluded.requested_revision,
              requested_hash = excluded.requested_hash,
              deleted = false,
              updated_at = excluded.updated_at
            """, collection, string.Empty, 0L, string.Empty);
        await using var unchanged = Command(connection, transaction,
            "INSERT INTO job_items (job_id, document_id, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            jobId, string.Empty, (short)JobItemOutcome.Unchanged);

        var tickets = new List<DocumentTicket>(documents.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            read.Parameters[1].Value = document.DocumentId;
            string? requestedHash = null;
            string? committedHash = null;
            var deleted = true;
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    requestedHash = reader.IsDBNull(0) ? null : reader.GetString(0);
                    committedHash = reader.IsDBNull(1) ? null : reader.GetString(1);
                    deleted = reader.GetBoolean(2);
                }
            }

            // Unchanged when the collection holds this content, or is already working towards it.
            if (!deleted && (requestedHash ?? committedHash) == document.DocumentHash)
            {
                unchanged.Parameters[1].Value = document.DocumentId;
                await unchanged.ExecuteNonQueryAsync(cancellationToken);
                tickets.Add(new DocumentTicket(document.DocumentId, null));
                continue;
            }

            var revision = firstRevision + i;
            request.Parameters[1].Value = document.DocumentId;
            request.Parameters[2].Value = revision;
            request.Parameters[3].Value = document.DocumentHash;
            await request.ExecuteNonQueryAsync(cancellationToken);
            tickets.Add(new DocumentTicket(document.DocumentId, revision));
        }

        await MarkJobCompletedIfDoneAsync(connection, transaction, jobId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return tickets;
    }

    public async Task<IReadOnlyDictionary<string, DocumentState>> GetDocumentStatesAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, DocumentState>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand(
            "SELECT id, requested_revision, committed_revision, deleted FROM documents WHERE collection = $1 AND id = ANY($2)");
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(documentIds.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            states[id] = new DocumentState(id, reader.GetInt64(1), reader.GetInt64(2), reader.GetBoolean(3));
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

    public async Task CompleteItemsAsync(string collection, Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken)
    {
        // Document rows are touched in id order whatever order the message listed them in (lock order).
        var ordered = results.OrderBy(r => r.DocumentId, StringComparer.Ordinal).ToList();
        var changed = ordered.Any(r => r.Outcome == JobItemOutcome.Succeeded
            && (r.ChunksEmbedded + r.ChunksReused + r.ChunksDeleted > 0 || r.Chunks is { Count: > 0 }));

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (changed)
        {
            // First in the lock order: the collection row.
            await BumpVersionAsync(connection, transaction, collection, cancellationToken);
        }

        // Then the job row: two workers finishing the job's last items take turns here, so the second one
        // sees the first one's items and marks the job completed (neither would, seeing only its own).
        await using (var lockJob = Command(connection, transaction, "SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", jobId))
        {
            await lockJob.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var item = Command(connection, transaction, """
            INSERT INTO job_items (job_id, document_id, outcome, error, chunks_embedded, chunks_reused, chunks_unchanged, chunks_deleted)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id, document_id) DO NOTHING
            """, jobId, string.Empty, (short)0, Text(null), 0L, 0L, 0L, 0L);
        await using var deleteChunks = Command(connection, transaction,
            "DELETE FROM chunks WHERE collection = $1 AND document_id = $2", collection, string.Empty);
        await using var insertChunks = Command(connection, transaction, """
            INSERT INTO chunks (collection, point_id, document_id, ordinal, content_hash, payload_hash)
            SELECT $1, * FROM unnest($2::text[], $3::text[], $4::integer[], $5::text[], $6::text[])
            ON CONFLICT (collection, point_id) DO UPDATE SET
              document_id = excluded.document_id, ordinal = excluded.ordinal,
              content_hash = excluded.content_hash, payload_hash = excluded.payload_hash
            """, collection, Array.Empty<string>(), Array.Empty<string>(), Array.Empty<int>(), Array.Empty<string>(), Array.Empty<string>());
        await using var commitDocument = Command(connection, transaction, """
            UPDATE documents SET committed_revision = $3, committed_hash = $4, committed_at = now(), updated_at = now()
            WHERE collection = $1 AND id = $2 AND committed_revision < $3
            """, collection, string.Empty, 0L, string.Empty);
        await using var abandonRequest = Command(connection, transaction, """
            UPDATE documents SET requested_hash = committed_hash, updated_at = now()
            WHERE collection = $1 AND id = $2 AND requested_revision = $3
            """, collection, string.Empty, 0L);

        foreach (var result in ordered)
        {
            item.Parameters[1].Value = result.DocumentId;
            item.Parameters[2].Value = (short)result.Outcome;
            item.Parameters[3].Value = (object?)result.Error ?? DBNull.Value;
            item.Parameters[4].Value = result.ChunksEmbedded;
            item.Parameters[5].Value = result.ChunksReused;
            item.Parameters[6].Value = result.ChunksUnchanged;
            item.Parameters[7].Value = result.ChunksDeleted;
            await item.ExecuteNonQueryAsync(cancellationToken);

            if (result.Outcome == JobItemOutcome.Succeeded)
            {
                // The chunk rows always mirror what the backend now holds for the document, even when a
                // newer revision was requested meanwhile: that revision will diff against these rows.
                deleteChunks.Parameters[1].Value = result.DocumentId;
                await deleteChunks.ExecuteNonQueryAsync(cancellationToken);
                if (result.Chunks is { Count: > 0 } chunks)
                {
                    insertChunks.Parameters[1].Value = chunks.Select(c => c.PointId).ToArray();
                    insertChunks.Parameters[2].Value = chunks.Select(c => c.DocumentId).ToArray();
                    insertChunks.Parameters[3].Value = chunks.Select(c => c.Ordinal).ToArray();
                    insertChunks.Parameters[4].Value = chunks.Select(c => c.ContentHash).ToArray();
                    insertChunks.Parameters[5].Value = chunks.Select(c => c.PayloadHash).ToArray();
                    await insertChunks.ExecuteNonQueryAsync(cancellationToken);
                }

                commitDocument.Parameters[1].Value = result.DocumentId;
                commitDocument.Parameters[2].Value = result.Revision;
                commitDocument.Parameters[3].Value = result.DocumentHash ?? string.Empty;
                await commitDocument.ExecuteNonQueryAsync(cancellationToken);
            }
            else if (result.Outcome == JobItemOutcome.Failed)
            {
                // Let a later re-post of the same content try again instead of counting as unchanged.
                abandonRequest.Parameters[1].Value = result.DocumentId;
                abandonRequest.Parameters[2].Value = result.Revision;
                await abandonRequest.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await MarkJobCompletedIfDoneAsync(connection, transaction, jobId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // A tombstone with a fresh revision: any in-flight message for an older revision is skipped.
        // The collection row first (lock order), as it hands out the revision.
        long revision;
        await using (var next = Command(connection, transaction,
            "UPDATE collections SET next_revision = next_revision + 1 WHERE name = $1 RETURNING next_revision - 1", collection))
        {
            if (await next.ExecuteScalarAsync(cancellationToken) is not long value)
            {
                return false;
            }

            revision = value;
        }

        await using var mark = Command(connection, transaction, """
            UPDATE documents SET deleted = true, requested_hash = NULL, committed_hash = NULL,
              requested_revision = $3, updated_at = now()
            WHERE collection = $1 AND id = $2 AND NOT deleted
            """, collection, documentId, revision);
        if (await mark.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        await using (var chunks = Command(connection, transaction,
            "DELETE FROM chunks WHERE collection = $1 AND document_id = $2", collection, documentId))
        {
            await chunks.ExecuteNonQueryAsync(cancellationToken);
        }

        await BumpVersionAsync(connection, transaction, collection, cancellationToken);
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

            var total = reader.GetInt32(1);
            var processed = reader.GetInt32(4);
            var succeeded = reader.GetInt32(5);
            var failed = reader.GetInt32(6);
            var state = processed < total ? (processed == 0 ? JobStates.Queued : JobStates.Running)
                : failed == 0 ? JobStates.Completed
                : failed == total ? JobStates.Failed
                : JobStates.CompletedWithErrors;
            status = new JobStatus(
                jobId, reader.GetString(0), state, total, processed, succeeded, failed,
                reader.GetInt32(7), reader.GetInt32(8),
                reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11), reader.GetInt64(12),
                [], Timestamp(reader, 2), reader.IsDBNull(3) ? null : Timestamp(reader, 3));
        }

        await using var errors = Command(connection, transaction, """
            SELECT document_id, error FROM job_items WHERE job_id = $1 AND outcome = 1 ORDER BY document_id COLLATE "C" LIMIT 1000
            """, jobId);
        var list = new List<JobItemError>();
        await using (var reader = await errors.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(new JobItemError(reader.GetString(0), reader.IsDBNull(1) ? "failed" : reader.GetString(1)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return status with { Errors = list };
    }

    private static async Task MarkJobCompletedIfDoneAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, """
            UPDATE jobs SET completed_at = now()
            WHERE id = $1 AND completed_at IS NULL
              AND total <= (SELECT COUNT(*) FROM job_items WHERE job_id = $1)
            """, jobId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task BumpVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string collection, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "UPDATE collections SET version = version + 1, updated_at = now() WHERE name = $1", collection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static CollectionRecord ReadCollection(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<CollectionSettings>(reader.GetString(1), Json)
            ?? throw new InvalidDataException($"Collection '{reader.GetString(0)}' has no settings."),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetInt64(3),
        Timestamp(reader, 4),
        Timestamp(reader, 5));

    private static DateTimeOffset Timestamp(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    /// <summary>A command with positional parameters ($1, $2, …); the values also fix each parameter's type for reuse.</summary>
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
