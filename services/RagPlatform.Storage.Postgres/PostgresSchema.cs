using Npgsql;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

/// <summary>
/// The database schema as an ordered list of migrations, applied at start-up by whichever process comes
/// first. All of it runs in one transaction holding a transaction-scoped advisory lock, so processes
/// starting together queue up; the later ones find <c>schema_version</c> current and change nothing. DDL is
/// transactional in PostgreSQL: a migration that fails leaves no trace and no version row.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The advisory lock key of schema changes ("ragschem" in ASCII): distinct from the document locks' hashes in practice.</summary>
    internal const long MigrationLockKey = 0x7261677363686D;

    /// <summary>Append only: a released migration never changes; a new change is a new entry.</summary>
    internal static readonly IReadOnlyList<(int Version, string Description, string Sql)> Migrations =
    [
        (1, "metadata: collections, documents, chunks, jobs", """
            CREATE TABLE collections (
                name text PRIMARY KEY,
                settings text NOT NULL,
                fingerprint text NULL,
                version bigint NOT NULL DEFAULT 0,
                next_revision bigint NOT NULL DEFAULT 1,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE TABLE documents (
                collection text NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                id text NOT NULL,
                requested_revision bigint NOT NULL,
                requested_hash text NULL,
                committed_revision bigint NOT NULL DEFAULT 0,
                committed_hash text NULL,
                committed_at timestamptz NULL,
                deleted boolean NOT NULL DEFAULT false,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (collection, id));
            CREATE TABLE chunks (
                collection text NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                point_id text NOT NULL,
                document_id text NOT NULL,
                ordinal integer NOT NULL,
                content_hash text NOT NULL,
                payload_hash text NOT NULL,
                PRIMARY KEY (collection, point_id));
            CREATE INDEX chunks_by_document ON chunks (collection, document_id);
            CREATE INDEX chunks_by_content ON chunks (collection, content_hash);
            CREATE TABLE jobs (
                id uuid PRIMARY KEY,
                collection text NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
                total integer NOT NULL,
                created_at timestamptz NOT NULL,
                completed_at timestamptz NULL);
            CREATE INDEX jobs_by_collection ON jobs (collection);
            CREATE TABLE job_items (
                job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                document_id text NOT NULL,
                outcome smallint NOT NULL,
                error text NULL,
                chunks_embedded bigint NOT NULL DEFAULT 0,
                chunks_reused bigint NOT NULL DEFAULT 0,
                chunks_unchanged bigint NOT NULL DEFAULT 0,
                chunks_deleted bigint NOT NULL DEFAULT 0,
                completed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (job_id, document_id));
            """),
        (2, "lexical index: per-collection totals, chunks, postings", """
            CREATE TABLE lexical_collections (
                id serial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                chunks bigint NOT NULL DEFAULT 0,
                total_length bigint NOT NULL DEFAULT 0);
            CREATE TABLE lexical_chunks (
                key bigserial PRIMARY KEY,
                collection_id integer NOT NULL REFERENCES lexical_collections(id) ON DELETE CASCADE,
                id text NOT NULL,
                document_id text NOT NULL,
                length integer NOT NULL,
                tags text[] NOT NULL,
                metadata jsonb NOT NULL,
                payload text NOT NULL,
                UNIQUE (collection_id, id));
            CREATE INDEX lexical_chunks_by_document ON lexical_chunks (collection_id, document_id);
            CREATE TABLE lexical_postings (
                collection_id integer NOT NULL,
                term text COLLATE "C" NOT NULL,
                chunk_key bigint NOT NULL,
                tf integer NOT NULL,
                length integer NOT NULL,
                PRIMARY KEY (collection_id, term, chunk_key));
            CREATE INDEX lexical_postings_by_chunk ON lexical_postings (chunk_key);
            """),
        (3, "blue/green versions: a collection's active physical version, pending re-index, retired version", """
            ALTER TABLE collections ADD COLUMN IF NOT EXISTS active_version integer NOT NULL DEFAULT 1;
            ALTER TABLE collections ADD COLUMN IF NOT EXISTS reindex text NULL;
            ALTER TABLE collections ADD COLUMN IF NOT EXISTS retired text NULL;
            """),
        (4, "lexical index: the analyzer that cut its terms (collections made before it: the bigram-only one)", """
            ALTER TABLE lexical_collections ADD COLUMN IF NOT EXISTS analyzer text NOT NULL DEFAULT 'ko-bigram/1';
            """),
    ];

    public static int CurrentVersion => Migrations[^1].Version;

    /// <summary>Brings the database to <see cref="CurrentVersion"/>; returns how many migrations this call applied.</summary>
    public static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue(MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS schema_version (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        int current;
        await using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version", connection, transaction))
        {
            current = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        MetadataSchemaVersion.EnsureKnown(current, CurrentVersion, "the PostgreSQL database");

        var applied = 0;
        foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
        {
            await using (var migrate = new NpgsqlCommand(sql, connection, transaction))
            {
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version, description) VALUES ($1, $2)", connection, transaction);
            record.Parameters.AddWithValue(version);
            record.Parameters.AddWithValue(description);
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied++;
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }
}

/// <summary>Runs the migrations once per process, whoever asks first (the metadata store at start-up, or the lexical index).</summary>
public sealed class PostgresSchemaMigrator(NpgsqlDataSource dataSource)
{
    private readonly Lock _gate = new();
    private Task? _migration;

    public Task EnsureAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // A failed attempt (database not up yet) is not remembered: the next caller tries again.
            if (_migration is null || _migration.IsFaulted || _migration.IsCanceled)
            {
                _migration = PostgresSchema.MigrateAsync(dataSource, CancellationToken.None);
            }

            return _migration.WaitAsync(cancellationToken);
        }
    }
}
