using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Storage.Postgres;

/// <summary>
/// The distributed lexical index: the BM25 of <see cref="EmbeddedLexicalIndex"/> (same tokenizer, same k1
/// and b, same formula) with its postings in PostgreSQL, shared by every worker and query process.
/// <list type="bullet">
/// <item><c>lexical_collections</c>: per collection, the chunk count and total length BM25 normalises by,
/// changed in the same transaction as the chunks, by exactly what that transaction removed and added.</item>
/// <item><c>lexical_chunks</c>: one row per chunk (id, document, length, tags, metadata, payload).</item>
/// <item><c>lexical_postings</c>: (collection, term, chunk) → tf, with the chunk's length beside it so
/// scoring never visits the chunk rows of non-winners.</item>
/// </list>
/// Writers to one collection run side by side: a write changes only its own chunks' rows and postings, and
/// adds what it removed and added to the collection's totals as its last statement, so the totals' row is
/// locked only from that increment to the commit (holding it for the whole write made every worker wait for
/// every other's COPY). The totals stay exact because each transaction adds exactly its own difference. Two
/// writes of the same chunk id at once meet at its unique key: the later one rolls back and runs again from the
/// start (as after a deadlock). Searches read a consistent snapshot without locks; a
/// search is one SQL statement that scores in the database and returns only the winners.
/// <para>
/// The postings are terms a tokenizer cut, so each collection records its tokenizer's
/// <see cref="KoreanLexicalTokenizer.AnalyzerId"/> (<c>lexical_collections.analyzer</c>). A process whose
/// configured analyzer differs refuses to search or write that collection (<see cref="LexicalAnalyzerMismatchException"/>:
/// 409, naming both and the fix, <c>rag lexical rebuild</c>) instead of silently missing every term the two cut differently.
/// </para>
/// </summary>
public sealed class PostgresLexicalIndex(NpgsqlDataSource dataSource, PostgresSchemaMigrator migrator, LexicalOptions options) : ILexicalIndex
{
    private const int MaxWriteAttempts = 8;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly KoreanLexicalTokenizer _tokenizer = options.CreateTokenizer();
    // Collections whose recorded analyzer was found to be ours; checked once per collection and process.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _analyzerChecked = new(StringComparer.Ordinal);

    public async Task UpsertAsync(string collection, IReadOnlyList<LexicalChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        // Tokenising is the costly part and needs no lock. A repeated id keeps its last version, as embedded.
        var entries = chunks
            .Select(c => LexicalEntry.Create(c.Id, c.Payload, _tokenizer))
            .GroupBy(e => e.Id, StringComparer.Ordinal)
            .Select(g => g.Last())
            .ToList();
        await WriteAsync(async (connection, transaction) =>
        {
            var collectionId = await GetOrCreateCollectionAsync(connection, transaction, collection, cancellationToken);
            var (removedChunks, removedLength) = await RemoveAsync(connection, transaction, collectionId,
                "id = ANY($2)", entries.Select(e => e.Id).ToArray(), cancellationToken);

            var keys = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var insert = new NpgsqlCommand("""
                INSERT INTO lexical_chunks (collection_id, id, document_id, length, tags, metadata, payload)
                SELECT $1, c.id, c.document_id, c.length, ARRAY(SELECT jsonb_array_elements_text(c.tags::jsonb)), c.metadata::jsonb, c.payload
                FROM unnest($2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[]) AS c(id, document_id, length, tags, metadata, payload)
                RETURNING id, key
                """, connection, transaction))
            {
                insert.Parameters.AddWithValue(collectionId);
                insert.Parameters.AddWithValue(entries.Select(e => e.Id).ToArray());
                insert.Parameters.AddWithValue(entries.Select(e => e.Payload.DocumentId).ToArray());
                insert.Parameters.AddWithValue(entries.Select(e => e.Length).ToArray());
                insert.Parameters.AddWithValue(entries.Select(e => JsonSerializer.Serialize(e.Payload.Tags, Json)).ToArray());
                insert.Parameters.AddWithValue(entries.Select(e => JsonSerializer.Serialize(e.Payload.Metadata, Json)).ToArray());
                insert.Parameters.AddWithValue(entries.Select(e => JsonSerializer.Serialize(StoredPayload.From(e.Payload), Json)).ToArray());
                await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    keys[reader.GetString(0)] = reader.GetInt64(1);
                }
            }

            // Postings are the bulk of the data (one row per distinct term of each chunk): binary COPY.
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY lexical_postings (collection_id, term, chunk_key, tf, length) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var entry in entries)
                {
                    var key = keys[entry.Id];
                    for (var i = 0; i < entry.Terms.Length; i++)
                    {
                        await copy.StartRowAsync(cancellationToken);
                        await copy.WriteAsync(collectionId, NpgsqlDbType.Integer, cancellationToken);
                        await copy.WriteAsync(entry.Terms[i], NpgsqlDbType.Text, cancellationToken);
                        await copy.WriteAsync(key, NpgsqlDbType.Bigint, cancellationToken);
                        await copy.WriteAsync(entry.Frequencies[i], NpgsqlDbType.Integer, cancellationToken);
                        await copy.WriteAsync(entry.Length, NpgsqlDbType.Integer, cancellationToken);
                    }
                }

                await copy.CompleteAsync(cancellationToken);
            }

            await AdjustTotalsAsync(connection, transaction, collectionId,
                entries.Count - removedChunks, entries.Sum(e => (long)e.Length) - removedLength, cancellationToken);
        }, cancellationToken);
    }

    public Task DeleteAsync(string collection, IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        ids.Count == 0 ? Task.CompletedTask : DeleteWhereAsync(collection, "id = ANY($2)", ids.ToArray(), cancellationToken);

    public Task DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        DeleteWhereAsync(collection, "document_id = $2", documentId, cancellationToken);

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindCollectionAsync(connection, transaction, collection, forUpdate: true, cancellationToken) is { } id)
            {
                // Postings carry no foreign key (it would cost every COPY a lookup): they go explicitly; chunks by cascade.
                await using var postings = new NpgsqlCommand("DELETE FROM lexical_postings WHERE collection_id = $1", connection, transaction);
                postings.Parameters.AddWithValue(id);
                await postings.ExecuteNonQueryAsync(cancellationToken);
                await using var drop = new NpgsqlCommand("DELETE FROM lexical_collections WHERE id = $1", connection, transaction);
                drop.Parameters.AddWithValue(id);
                await drop.ExecuteNonQueryAsync(cancellationToken);
                _analyzerChecked.TryRemove(collection, out _);
            }
        }, cancellationToken);

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(
        string collection, string query, int topK, VectorFilter? filter, CancellationToken cancellationToken)
    {
        // Each distinct query term once, weighted as every lexical index weighs it, in first-seen order.
        var terms = LexicalAnalysis.WeighQueryTerms(_tokenizer.Tokenize(query), options.K3);
        if (terms.Count == 0 || topK < 1)
        {
            return [];
        }

        await migrator.EnsureAsync(cancellationToken);
        await EnsureAnalyzerAsync(collection, cancellationToken);
        var filtered = filter is { IsEmpty: false };
        // BM25 exactly as LexicalCollection.Search computes it, operation by operation: idf from the
        // collection's chunk count and the term's document frequency, length normalised by the average.
        // Without a filter only the k best leave the database (ties by id, byte order = ordinal); with
        // one, tags and metadata are narrowed in SQL (containment) and checked exactly here.
        await using var command = dataSource.CreateCommand($$"""
            WITH col AS (
                SELECT id, chunks::float8 AS n, total_length::float8 / chunks AS average_length
                FROM lexical_collections WHERE name = $1 AND chunks > 0),
            q AS (
                SELECT q.term, q.weight, q.ord, df.n AS df
                FROM unnest($2::text[], $3::float8[]) WITH ORDINALITY AS q(term, weight, ord)
                CROSS JOIN col
                CROSS JOIN LATERAL (SELECT count(*)::float8 AS n FROM lexical_postings p
                                    WHERE p.collection_id = col.id AND p.term = q.term COLLATE "C") df
                WHERE df.n > 0),
            scored AS (
                SELECT p.chunk_key,
                       sum((((q.weight * ln(1 + ((col.n - q.df + 0.5) / (q.df + 0.5)))) * p.tf) * ($4 + 1))
                           / (p.tf + ($4 * ((1 - $5) + (($5 * p.length) / col.average_length))))) AS score
                FROM q CROSS JOIN col
                JOIN lexical_postings p ON p.collection_id = col.id AND p.term = q.term COLLATE "C"
                {{(filtered ? "JOIN lexical_chunks f ON f.key = p.chunk_key AND f.tags @> $7 AND f.metadata @> $8::jsonb" : string.Empty)}}
                GROUP BY p.chunk_key),
            cut AS (
                SELECT score FROM scored ORDER BY score DESC LIMIT 1 OFFSET $6 - 1)
            SELECT c.id, c.payload, s.score
            FROM scored s JOIN lexical_chunks c ON c.key = s.chunk_key
            {{(filtered ? string.Empty : "WHERE s.score >= COALESCE((SELECT score FROM cut), '-Infinity'::float8)")}}
            ORDER BY s.score DESC, c.id COLLATE "C"
            {{(filtered ? string.Empty : "LIMIT $6")}}
            """);
        command.Parameters.AddWithValue(collection);
        command.Parameters.AddWithValue(terms.ConvertAll(t => t.Term).ToArray());
        command.Parameters.AddWithValue(terms.ConvertAll(t => t.Weight).ToArray());
        command.Parameters.AddWithValue(options.K1);
        command.Parameters.AddWithValue(options.B);
        command.Parameters.AddWithValue(topK);
        if (filtered)
        {
            command.Parameters.AddWithValue(filter!.Tags.ToArray());
            command.Parameters.AddWithValue(JsonSerializer.Serialize(filter.Metadata, Json));
        }

        var hits = new List<VectorSearchHit>(topK);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (hits.Count < topK && await reader.ReadAsync(cancellationToken))
        {
            var payload = JsonSerializer.Deserialize<StoredPayload>(reader.GetString(1), Json)!.ToPayload();
            if (!filtered || filter!.Matches(payload))
            {
                hits.Add(new VectorSearchHit(reader.GetString(0), (float)reader.GetDouble(2), payload));
            }
        }

        return hits;
    }

    /// <summary>The whole scoring state, in the shape <see cref="EmbeddedLexicalIndex.Inspect"/> gives, to
    /// compare an incrementally maintained index with a rebuilt one (or with the embedded one).</summary>
    public async Task<LexicalIndexState> InspectAsync(string collection, CancellationToken cancellationToken)
    {
        await migrator.EnsureAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var chunks = 0;
        long totalLength = 0;
        await using (var totals = new NpgsqlCommand("SELECT chunks, total_length FROM lexical_collections WHERE name = $1", connection, transaction))
        {
            totals.Parameters.AddWithValue(collection);
            await using var reader = await totals.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                chunks = (int)reader.GetInt64(0);
                totalLength = reader.GetInt64(1);
            }
        }

        var postings = new SortedDictionary<string, IReadOnlyList<(string Id, int Tf)>>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("""
            SELECT p.term, c.id, p.tf FROM lexical_postings p
            JOIN lexical_collections l ON l.id = p.collection_id
            JOIN lexical_chunks c ON c.key = p.chunk_key
            WHERE l.name = $1 ORDER BY p.term, c.id COLLATE "C"
            """, connection, transaction))
        {
            read.Parameters.AddWithValue(collection);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var term = reader.GetString(0);
                if (!postings.TryGetValue(term, out var list))
                {
                    postings[term] = list = new List<(string Id, int Tf)>();
                }

                ((List<(string Id, int Tf)>)list).Add((reader.GetString(1), reader.GetInt32(2)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new LexicalIndexState(chunks, totalLength, postings);
    }

    private Task DeleteWhereAsync(string collection, string condition, object argument, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindCollectionAsync(connection, transaction, collection, forUpdate: false, cancellationToken) is { } id)
            {
                var (removedChunks, removedLength) = await RemoveAsync(connection, transaction, id, condition, argument, cancellationToken);
                await AdjustTotalsAsync(connection, transaction, id, -removedChunks, -removedLength, cancellationToken);
            }
        }, cancellationToken);

    /// <summary>
    /// Runs one write in its own transaction, again from the start when it lost a race with a concurrent write
    /// of the same chunks (their unique key, or a deadlock between two deletes of overlapping ids, or between
    /// dropping the collection and a write to it): the transaction rolled back whole, so repeating it is exact.
    /// </summary>
    private async Task WriteAsync(Func<NpgsqlConnection, NpgsqlTransaction, Task> write, CancellationToken cancellationToken)
    {
        await migrator.EnsureAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await write(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return;
            }
            catch (PostgresException e) when (attempt < MaxWriteAttempts && e.SqlState is
                PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), cancellationToken);
            }
        }
    }

    /// <summary>The collection's id, made when missing, without locking its row (see the class remarks).</summary>
    private async Task<int> GetOrCreateCollectionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string collection, CancellationToken cancellationToken)
    {
        // A plain read first: an INSERT … ON CONFLICT would wait for any writer holding the row's lock for its
        // totals increment. DO NOTHING returns no row when a concurrent writer made it first; the read after
        // it is a statement of its own, so its snapshot includes that writer's committed row.
        if (await FindCollectionAsync(connection, transaction, collection, forUpdate: false, cancellationToken) is { } existing)
        {
            await CheckAnalyzerAsync(connection, transaction, collection, cancellationToken);
            return existing;
        }

        await using var insert = new NpgsqlCommand(
            "INSERT INTO lexical_collections (name, analyzer) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id", connection, transaction);
        insert.Parameters.AddWithValue(collection);
        insert.Parameters.AddWithValue(_tokenizer.AnalyzerId);
        if (await insert.ExecuteScalarAsync(cancellationToken) is int created)
        {
            return created;
        }

        var found = await FindCollectionAsync(connection, transaction, collection, forUpdate: false, cancellationToken)
            ?? throw new InvalidOperationException($"The lexical collection '{collection}' was deleted while being written.");
        await CheckAnalyzerAsync(connection, transaction, collection, cancellationToken);
        return found;
    }

    /// <summary>Refuses a collection whose postings another analyzer cut (see the class remarks); a missing collection passes.</summary>
    private async Task EnsureAnalyzerAsync(string collection, CancellationToken cancellationToken)
    {
        if (_analyzerChecked.ContainsKey(collection))
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await CheckAnalyzerAsync(connection, null, collection, cancellationToken);
    }

    private async Task CheckAnalyzerAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string collection, CancellationToken cancellationToken)
    {
        if (_analyzerChecked.ContainsKey(collection))
        {
            return;
        }

        await using var command = new NpgsqlCommand("SELECT analyzer FROM lexical_collections WHERE name = $1", connection, transaction);
        command.Parameters.AddWithValue(collection);
        var recorded = await command.ExecuteScalarAsync(cancellationToken) as string;
        if (recorded is null)
        {
            return; // not made yet: the first write records ours
        }

        if (!string.Equals(recorded, _tokenizer.AnalyzerId, StringComparison.Ordinal))
        {
            throw new LexicalAnalyzerMismatchException(collection, recorded, _tokenizer.AnalyzerId);
        }

        _analyzerChecked[collection] = true;
    }

    /// <summary>The collection's id, or null. <paramref name="forUpdate"/> locks its row for the rest of the transaction: dropping the whole collection waits for the writes in flight.</summary>
    private static async Task<int?> FindCollectionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string collection, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT id FROM lexical_collections WHERE name = $1" + (forUpdate ? " FOR UPDATE" : string.Empty), connection, transaction);
        command.Parameters.AddWithValue(collection);
        return await command.ExecuteScalarAsync(cancellationToken) as int?;
    }

    /// <summary>Deletes the collection's chunks matching <paramref name="condition"/> ($2 = <paramref name="argument"/>) with their postings; returns what they counted for.</summary>
    private static async Task<(int Chunks, long Length)> RemoveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int collectionId, string condition, object argument, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            WITH gone AS (DELETE FROM lexical_chunks WHERE collection_id = $1 AND {condition} RETURNING key, length),
            postings AS (DELETE FROM lexical_postings WHERE chunk_key IN (SELECT key FROM gone))
            SELECT count(*)::integer, COALESCE(sum(length), 0)::bigint FROM gone
            """, connection, transaction);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(argument);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetInt64(1));
    }

    private static async Task AdjustTotalsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int collectionId, long chunks, long length, CancellationToken cancellationToken)
    {
        if (chunks == 0 && length == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            "UPDATE lexical_collections SET chunks = chunks + $2, total_length = total_length + $3 WHERE id = $1", connection, transaction);
        command.Parameters.AddWithValue(collectionId);
        command.Parameters.AddWithValue(chunks);
        command.Parameters.AddWithValue(length);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A chunk's payload as stored: what <see cref="PointPayload"/> carries, in a shape JSON round-trips.</summary>
    private sealed record StoredPayload(
        string DocumentId, string? Title, string Text, List<string> Tags,
        Dictionary<string, JsonElement> Metadata, string ContentHash, int Ordinal)
    {
        public static StoredPayload From(PointPayload p) => new(
            p.DocumentId, p.Title, p.Text, [.. p.Tags], new Dictionary<string, JsonElement>(p.Metadata, StringComparer.Ordinal), p.ContentHash, p.Ordinal);

        public PointPayload ToPayload() => new(DocumentId, Title, Text, Tags, Metadata, ContentHash, Ordinal);
    }
}
