using System.Globalization;
using Microsoft.Data.Sqlite;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Sqlite;

/// <summary>
/// The SQLite metadata file's schema as an ordered list of numbered migrations, as on Postgres
/// (RagPlatform.Storage.Postgres.PostgresSchema): <c>schema_version</c> holds one row per applied migration, and
/// opening a file applies the missing ones in one transaction (DDL is transactional in SQLite), so a failed migration
/// leaves the file as it was. A file newer than this build is refused. Files written before numbered migrations hold a
/// one-column <c>schema_version</c> with the row <c>1</c>; they are brought to the numbered form first (their
/// migration 1 is the same tables), then migrated on.
/// </summary>
public static class SqliteSchema
{
    /// <summary>A migration: SQL, or code where SQLite's DDL cannot say it (ADD COLUMN has no IF NOT EXISTS).</summary>
    public sealed record Migration(int Version, string Description, Func<SqliteConnection, SqliteTransaction, CancellationToken, Task> ApplyAsync);

    /// <summary>Append only: a released migration never changes; a new change is a new entry.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "metadata: collections, documents, chunks, jobs", (c, t, ct) => ExecuteAsync(c, t, """
            CREATE TABLE IF NOT EXISTS collections (
                name TEXT PRIMARY KEY,
                settings TEXT NOT NULL,
                fingerprint TEXT NULL,
                version INTEGER NOT NULL DEFAULT 0,
                next_revision INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS documents (
                collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                id TEXT NOT NULL,
                requested_revision INTEGER NOT NULL,
                requested_hash TEXT NULL,
                committed_revision INTEGER NOT NULL DEFAULT 0,
                committed_hash TEXT NULL,
                deleted INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (collection, id));
            CREATE TABLE IF NOT EXISTS chunks (
                collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                point_id TEXT NOT NULL,
                document_id TEXT NOT NULL,
                ordinal INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                payload_hash TEXT NOT NULL,
                PRIMARY KEY (collection, point_id));
            CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (collection, document_id);
            CREATE INDEX IF NOT EXISTS chunks_by_content ON chunks (collection, content_hash);
            CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY,
                collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                total INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                completed_at TEXT NULL);
            CREATE TABLE IF NOT EXISTS job_items (
                job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                document_id TEXT NOT NULL,
                outcome INTEGER NOT NULL,
                error TEXT NULL,
                chunks_embedded INTEGER NOT NULL DEFAULT 0,
                chunks_reused INTEGER NOT NULL DEFAULT 0,
                chunks_unchanged INTEGER NOT NULL DEFAULT 0,
                chunks_deleted INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (job_id, document_id));
            """, ct)),
        // Files of builds before numbered migrations may already have these columns (they were added ad hoc at
        // start-up), so each is added only when missing.
        new(2, "blue/green versions: a collection's active physical version, pending re-index, retired version", async (c, t, ct) =>
        {
            await AddColumnIfMissingAsync(c, t, "collections", "active_version", "INTEGER NOT NULL DEFAULT 1", ct);
            await AddColumnIfMissingAsync(c, t, "collections", "reindex", "TEXT NULL", ct);
            await AddColumnIfMissingAsync(c, t, "collections", "retired", "TEXT NULL", ct);
        }),
        // What a job queued and no worker recorded yet: the standalone host's in-memory bus loses it in a crash, and the
        // restart fails those documents in their jobs with the reason (InterruptedWorkRecovery in RagPlatform.Hosting).
        new(3, "queued items: a job's documents sent to the bus and not yet recorded", (c, t, ct) => ExecuteAsync(c, t, """
            CREATE TABLE IF NOT EXISTS queued_items (
                job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                document_id TEXT NOT NULL,
                revision INTEGER NOT NULL,
                PRIMARY KEY (job_id, document_id));
            """, ct)),
    ];

    public static int CurrentVersion => Migrations[^1].Version;

    /// <summary>
    /// Brings the open file to <see cref="CurrentVersion"/>; returns how many migrations this call applied.
    /// </summary>
    /// <exception cref="MetadataSchemaTooNewException">The file was written by a newer build.</exception>
    public static async Task<int> MigrateAsync(SqliteConnection connection, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // BEGIN IMMEDIATE (not deferred): the write lock is taken before the version is read, so two openers cannot both migrate.
        await using var transaction = connection.BeginTransaction(deferred: false);
        await UpgradeLegacyVersionTableAsync(connection, transaction, cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL)
            """, cancellationToken);
        int current;
        await using (var read = new SqliteCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version", connection, transaction))
        {
            current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        MetadataSchemaVersion.EnsureKnown(current, CurrentVersion, path);
        var applied = 0;
        foreach (var migration in Migrations.Where(m => m.Version > current))
        {
            await migration.ApplyAsync(connection, transaction, cancellationToken);
            await using var record = new SqliteCommand(
                "INSERT INTO schema_version (version, description, applied_at) VALUES ($v, $d, $at)", connection, transaction);
            record.Parameters.AddWithValue("$v", migration.Version);
            record.Parameters.AddWithValue("$d", migration.Description);
            record.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied++;
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    /// <summary>
    /// A file from before numbered migrations has <c>schema_version (version)</c> alone, holding 1: the tables of
    /// migration 1. It becomes the numbered table with that row, so migration 2 on runs as for any file at version 1.
    /// </summary>
    private static async Task UpgradeLegacyVersionTableAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var columns = new SqliteCommand("SELECT COUNT(*) FROM pragma_table_info('schema_version')", connection, transaction);
        var count = Convert.ToInt32(await columns.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (count != 1)
        {
            return; // no table yet (a new file), or the numbered one
        }

        await ExecuteAsync(connection, transaction, $"""
            ALTER TABLE schema_version RENAME TO schema_version_legacy;
            CREATE TABLE schema_version (
                version INTEGER PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL);
            INSERT INTO schema_version (version, description, applied_at)
                SELECT DISTINCT version, 'before numbered migrations', '{DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)}'
                FROM schema_version_legacy;
            DROP TABLE schema_version_legacy;
            """, cancellationToken);
    }

    private static async Task AddColumnIfMissingAsync(
        SqliteConnection connection, SqliteTransaction transaction, string table, string column, string definition, CancellationToken cancellationToken)
    {
        await using var exists = new SqliteCommand($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column", connection, transaction);
        exists.Parameters.AddWithValue("$column", column);
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            await ExecuteAsync(connection, transaction, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", cancellationToken);
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new SqliteCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
