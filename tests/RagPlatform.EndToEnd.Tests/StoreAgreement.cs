using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Plugins.EmbeddedVectors;

namespace RagPlatform.EndToEnd.Tests;

/// <summary>
/// Opens a stopped standalone host's data directory with the stores' own classes (the SQLite file read-only, the
/// embedded vector store, the embedded lexical index) and lists every way they disagree: per collection, the chunk rows'
/// point ids, the active version's vector points and the lexical entries must be the same set, each point belonging to
/// the document its row names; no job may be unfinished, no document left pending, no re-index left running.
/// </summary>
public static class StoreAgreement
{
    /// <param name="settled">Documents whose state is known: each must be found (in the lexical index) by the token of its
    /// expected version only, and a deleted one by none of its tokens.</param>
    public static async Task<IReadOnlyList<string>> ProblemsAsync(string dataDirectory, string collection, IReadOnlyList<CrashModel.TrackedDocument> settled)
    {
        var problems = new List<string>();
        var rows = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "metadata.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString()))
        {
            await sqlite.OpenAsync();
            foreach (var (name, version, reindex) in await QueryAsync(sqlite, "SELECT name, active_version, reindex FROM collections",
                r => (r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetString(2))))
            {
                versions[name] = version;
                rows[name] = new Dictionary<string, string>(StringComparer.Ordinal);
                if (reindex is not null && reindex.Contains("\"running\"", StringComparison.Ordinal))
                {
                    problems.Add($"{name}: a re-index is still running after the restart: {reindex}");
                }
            }

            foreach (var (name, point, document) in await QueryAsync(sqlite, "SELECT collection, point_id, document_id FROM chunks",
                r => (r.GetString(0), r.GetString(1), r.GetString(2))))
            {
                rows[name][point] = document;
            }

            Add(problems, "jobs never finished", await QueryAsync(sqlite, "SELECT id FROM jobs WHERE completed_at IS NULL", r => r.GetString(0)));
            Add(problems, "documents still queued in a job", await QueryAsync(sqlite, "SELECT job_id || '/' || document_id FROM queued_items", r => r.GetString(0)));
            Add(problems, "documents left pending", await QueryAsync(sqlite,
                "SELECT collection || '/' || id FROM documents WHERE deleted = 0 AND requested_hash IS NOT NULL AND requested_hash IS NOT committed_hash",
                r => r.GetString(0)));
            Add(problems, "chunk rows of deleted documents", await QueryAsync(sqlite,
                "SELECT c.collection || '/' || c.point_id FROM chunks c JOIN documents d ON d.collection = c.collection AND d.id = c.document_id WHERE d.deleted = 1",
                r => r.GetString(0)));
            Add(problems, "indexed documents without chunk rows", await QueryAsync(sqlite,
                "SELECT d.collection || '/' || d.id FROM documents d WHERE d.deleted = 0 AND d.committed_revision > 0 AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.collection = d.collection AND c.document_id = d.id)",
                r => r.GetString(0)));
        }

        await using (var vectors = new EmbeddedVectorBackend(new EmbeddedVectorOptions { Path = Path.Combine(dataDirectory, "vectors", "embedded") }))
        {
            foreach (var (name, expected) in rows)
            {
                var physical = PhysicalNames.Of(name, versions[name]);
                var points = new Dictionary<string, string>(StringComparer.Ordinal);
                if (await vectors.GetCollectionAsync(physical, CancellationToken.None) is not null)
                {
                    await foreach (var point in vectors.ExportAsync(physical, CancellationToken.None))
                    {
                        points[point.Id] = point.Payload.DocumentId;
                    }
                }

                Compare(problems, $"{name}: vectors of {physical}", expected, points);
            }
        }

        using (var lexical = new EmbeddedLexicalIndex(Path.Combine(dataDirectory, "lexical"), new LexicalOptions(), NullLogger<EmbeddedLexicalIndex>.Instance))
        {
            foreach (var (name, expected) in rows)
            {
                var entries = lexical.ChunkIds(name).ToDictionary(id => id, id => expected.GetValueOrDefault(id, "?"), StringComparer.Ordinal);
                Compare(problems, $"{name}: lexical entries", expected, entries);
            }

            var wrong = new List<string>();
            foreach (var document in settled)
            {
                foreach (var token in document.Tokens)
                {
                    var found = (await lexical.SearchAsync(collection, token, 5, null, CancellationToken.None))
                        .Any(h => h.Payload.DocumentId == document.Id);
                    if (found != (token == document.Expected))
                    {
                        wrong.Add($"{document.Id} {(found ? "found by" : "not found by")} {token} (expected version: {document.Expected ?? "deleted"})");
                    }
                }
            }

            Add(problems, "settled documents in the wrong state", wrong);
        }

        return problems;
    }

    private static void Compare(List<string> problems, string what, Dictionary<string, string> rows, Dictionary<string, string> held)
    {
        var extra = held.Keys.Where(id => !rows.ContainsKey(id)).ToList();
        var missing = rows.Keys.Where(id => !held.ContainsKey(id)).ToList();
        var misplaced = held.Where(p => rows.TryGetValue(p.Key, out var document) && document != p.Value).Select(p => p.Key).ToList();
        Add(problems, $"{what}: points no chunk row names", extra);
        Add(problems, $"{what}: chunk rows without a point", missing);
        Add(problems, $"{what}: points of another document than their row", misplaced);
    }

    private static void Add(List<string> problems, string what, IReadOnlyCollection<string> ids)
    {
        if (ids.Count > 0)
        {
            problems.Add($"{what}: {ids.Count} ({string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", ..." : "")})");
        }
    }

    private static async Task<List<T>> QueryAsync<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<T>();
        while (await reader.ReadAsync())
        {
            list.Add(read(reader));
        }

        return list;
    }
}
