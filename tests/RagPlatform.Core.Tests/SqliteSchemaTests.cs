using Microsoft.Data.Sqlite;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Core.Tests;

/// <summary>
/// The SQLite metadata file's numbered migrations (SqliteSchema): a file written before them (the committed fixture,
/// tests/fixtures/legacy-stores/sqlite-metadata) opens with its data and is migrated; a file newer than this build
/// is refused, clearly, and left as it was.
/// </summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private static readonly Guid FinishedWithErrors = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid Queued = Guid.Parse("22222222-2222-2222-2222-222222222222");
    private static readonly Guid Reindex = Guid.Parse("33333333-3333-3333-3333-333333333333");
    private readonly string _directory = Directory.CreateTempSubdirectory("rag-sqlite-schema-").FullName;

    private string FilePath => Path.Combine(_directory, "metadata.db");

    [Fact]
    public async Task A_file_written_before_numbered_migrations_opens_with_its_data_and_is_migrated()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "legacy-stores", "sqlite-metadata", "metadata.db"), FilePath);

        await using (var store = new SqliteMetadataStore(FilePath))
        {
            await store.InitializeAsync(default);

            Assert.Equal(["docs", "news"], (await store.ListCollectionsAsync(default)).Select(c => c.Name));
            var news = await store.GetCollectionAsync("news", default);
            Assert.Equal(Reindex, news!.Reindex!.JobId);
            Assert.True(news.Reindex.IsRunning);
            var job = await store.GetJobAsync(FinishedWithErrors, default);
            Assert.Equal(JobStates.CompletedWithErrors, job!.State);
            Assert.Equal([new JobItemError("c", "parse error")], job.Errors);
            Assert.Equal(JobStates.Queued, (await store.GetJobAsync(Queued, default))!.State);
            Assert.Equal(["a-0", "a-1"], (await store.GetChunksAsync("docs", ["a"], default)).Select(c => c.PointId));
            // c failed and d is queued: both still pending.
            Assert.Equal(new CollectionCounts(2, 3, 2), await store.GetCountsAsync("docs", default));

            // And it takes writes after the migration.
            var tickets = await store.SubmitAsync("docs", Guid.NewGuid(), [new DocumentRequest("f", "hf")], default);
            Assert.NotNull(tickets[0].Revision);
        }

        Assert.Equal(
            [(1, "before numbered migrations"), (2, SqliteSchema.Migrations[1].Description), (3, SqliteSchema.Migrations[2].Description)],
            await VersionRowsAsync());
        await using var again = new SqliteConnection($"Data Source={FilePath};Pooling=False");
        await again.OpenAsync();
        Assert.Equal(0, await SqliteSchema.MigrateAsync(again, FilePath, default));
    }

    [Fact]
    public async Task A_file_from_before_the_blue_green_columns_gains_them_in_migration_2()
    {
        await using (var legacy = new SqliteConnection($"Data Source={FilePath};Pooling=False"))
        {
            await legacy.OpenAsync();
            await using var create = legacy.CreateCommand();
            create.CommandText = """
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version VALUES (1);
                CREATE TABLE collections (name TEXT PRIMARY KEY, settings TEXT NOT NULL, fingerprint TEXT NULL,
                    version INTEGER NOT NULL DEFAULT 0, next_revision INTEGER NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                INSERT INTO collections (name, settings, fingerprint, created_at, updated_at) VALUES ('old',
                    '{"embedding":{"provider":"hashing","settings":{}},"vectorBackend":"embedded","chunking":{"maxTokens":256,"overlapTokens":32}}',
                    'fp', '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:00.0000000+00:00');
                """;
            await create.ExecuteNonQueryAsync();
        }

        await using (var store = new SqliteMetadataStore(FilePath))
        {
            await store.InitializeAsync(default);
            var old = await store.GetCollectionAsync("old", default);
            Assert.Equal(1, old!.ActiveVersion);
            Assert.Null(old.Reindex);
        }

        Assert.Equal([1, 2, 3], (await VersionRowsAsync()).Select(r => r.Version));
    }

    [Fact]
    public async Task A_new_file_records_every_numbered_migration()
    {
        await using (var store = new SqliteMetadataStore(FilePath))
        {
            await store.InitializeAsync(default);
        }

        Assert.Equal(SqliteSchema.Migrations.Select(m => (m.Version, m.Description)), await VersionRowsAsync());
    }

    [Fact]
    public async Task A_file_newer_than_this_build_is_refused_naming_the_versions_and_left_unchanged()
    {
        await using (var store = new SqliteMetadataStore(FilePath))
        {
            await store.InitializeAsync(default);
        }

        await ExecuteAsync("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'from the future', '2030-01-01')");

        await using (var store = new SqliteMetadataStore(FilePath))
        {
            var error = await Assert.ThrowsAsync<MetadataSchemaTooNewException>(() => store.InitializeAsync(default));
            Assert.Contains("version 99", error.Message, StringComparison.Ordinal);
            Assert.Contains($"knows ({SqliteSchema.CurrentVersion})", error.Message, StringComparison.Ordinal);
            Assert.Contains(FilePath, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(99, (await VersionRowsAsync()).Max(r => r.Version));
    }

    [Theory]
    [InlineData(3, 0, 0, JobStates.Queued)]
    [InlineData(3, 1, 1, JobStates.Running)]
    [InlineData(3, 3, 0, JobStates.Completed)]
    [InlineData(3, 3, 1, JobStates.CompletedWithErrors)]
    [InlineData(3, 3, 3, JobStates.Failed)]
    [InlineData(0, 0, 0, JobStates.Completed)]
    public void A_jobs_state_follows_from_its_counts(int total, int processed, int failed, string state) =>
        Assert.Equal(state, JobStatusRules.StateOf(total, processed, failed));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<List<(int Version, string Description)>> VersionRowsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={FilePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, description FROM schema_version ORDER BY version";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={FilePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
