using Npgsql;
using RagPlatform.Core.Collections;

namespace RagPlatform.Storage.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SchemaMigrationTests(PostgresServer server)
{
    [Fact]
    public async Task Migrating_twice_applies_each_migration_once()
    {
        await using var dataSource = server.CreateDataSource(await server.CreateDatabaseAsync());

        var first = await PostgresSchema.MigrateAsync(dataSource, default);
        var second = await PostgresSchema.MigrateAsync(dataSource, default);

        Assert.Equal(PostgresSchema.Migrations.Count, first);
        Assert.Equal(0, second);
        Assert.Equal(PostgresSchema.CurrentVersion, await MaxVersionAsync(dataSource));
    }

    [Fact]
    public async Task Processes_starting_together_on_an_empty_database_migrate_it_exactly_once()
    {
        var database = await server.CreateDatabaseAsync();
        var dataSources = Enumerable.Range(0, 4).Select(_ => server.CreateDataSource(database)).ToList();
        try
        {
            var applied = await Task.WhenAll(dataSources.Select(d => Task.Run(() => PostgresSchema.MigrateAsync(d, default))));

            Assert.Equal(PostgresSchema.Migrations.Count, applied.Sum());
            await using var count = dataSources[0].CreateCommand("SELECT count(*) FROM schema_version");
            Assert.Equal((long)PostgresSchema.Migrations.Count, await count.ExecuteScalarAsync());
        }
        finally
        {
            foreach (var dataSource in dataSources)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_database_from_before_collection_versions_gains_them_with_its_collections_at_version_1()
    {
        await using var dataSource = server.CreateDataSource(await server.CreateDatabaseAsync());
        await using (var create = dataSource.CreateCommand(
            "CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"))
        {
            await create.ExecuteNonQueryAsync();
        }

        foreach (var (version, description, sql) in PostgresSchema.Migrations.Where(m => m.Version <= 2))
        {
            await using var migrate = dataSource.CreateCommand(sql);
            await migrate.ExecuteNonQueryAsync();
            await using var mark = dataSource.CreateCommand($"INSERT INTO schema_version (version, description) VALUES ({version}, '{description}')");
            await mark.ExecuteNonQueryAsync();
        }

        await using (var old = dataSource.CreateCommand("""
            INSERT INTO collections (name, settings, fingerprint, created_at, updated_at)
            VALUES ('legacy', '{"embedding":{"provider":"hashing","settings":{}},"vectorBackend":"embedded","chunking":{"maxTokens":256,"overlapTokens":32}}', 'fp', now(), now())
            """))
        {
            await old.ExecuteNonQueryAsync();
        }

        var applied = await PostgresSchema.MigrateAsync(dataSource, default);
        var record = await new PostgresMetadataStore(dataSource, new PostgresSchemaMigrator(dataSource)).GetCollectionAsync("legacy", default);

        Assert.Equal(PostgresSchema.Migrations.Count - 2, applied);
        Assert.Equal((1, "legacy", "fp"), (record!.ActiveVersion, record.VectorName, record.Fingerprint));
        Assert.Null(record.Reindex);
        Assert.Null(record.Retired);
        Assert.Equal(0, await PostgresSchema.MigrateAsync(dataSource, default));
    }

    [Fact]
    public async Task A_database_from_a_newer_build_is_refused()
    {
        await using var dataSource = server.CreateDataSource(await server.CreateDatabaseAsync());
        await PostgresSchema.MigrateAsync(dataSource, default);
        await using (var future = dataSource.CreateCommand($"INSERT INTO schema_version (version, description) VALUES ({PostgresSchema.CurrentVersion + 1}, 'future')"))
        {
            await future.ExecuteNonQueryAsync();
        }

        // The same refusal as the SQLite file's (MetadataSchemaVersion), naming both versions.
        var error = await Assert.ThrowsAsync<RagPlatform.Core.Storage.MetadataSchemaTooNewException>(() => PostgresSchema.MigrateAsync(dataSource, default));
        Assert.Contains($"version {PostgresSchema.CurrentVersion + 1}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"knows ({PostgresSchema.CurrentVersion})", error.Message, StringComparison.Ordinal);
    }

    private static async Task<int> MaxVersionAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT max(version) FROM schema_version");
        return (int)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>Advisory document locks, with two data sources standing for two processes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresDocumentLockTests(PostgresServer server) : IAsyncLifetime
{
    private NpgsqlDataSource _sourceA = null!;
    private NpgsqlDataSource _sourceB = null!;
    private IDocumentLocks _locksA = null!;
    private IDocumentLocks _locksB = null!;

    public Task InitializeAsync()
    {
        _sourceA = server.CreateDataSource();
        _sourceB = server.CreateDataSource();
        _locksA = new PostgresDocumentLocks(_sourceA);
        _locksB = new PostgresDocumentLocks(_sourceB);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _sourceA.DisposeAsync();
        await _sourceB.DisposeAsync();
    }

    [Fact]
    public async Task A_document_held_by_one_process_waits_for_it_in_another()
    {
        var collection = Guid.NewGuid().ToString("N");
        var held = await _locksA.AcquireAsync(collection, ["doc-1", "doc-2"], default);

        // Blocked: the wait only ends by our cancellation, which proves it was waiting on A.
        using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _locksB.AcquireAsync(collection, ["doc-2"], giveUp.Token));
        }

        var waiting = _locksB.AcquireAsync(collection, ["doc-2", "doc-3"], default);
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await (await waiting).DisposeAsync();
    }

    [Fact]
    public async Task Other_documents_and_other_collections_are_not_blocked()
    {
        var collection = Guid.NewGuid().ToString("N");
        await using var held = await _locksA.AcquireAsync(collection, ["doc-1"], default);

        await (await _locksB.AcquireAsync(collection, ["doc-2"], default)).DisposeAsync();
        await (await _locksB.AcquireAsync(collection + "-other", ["doc-1"], default)).DisposeAsync();
    }

    [Fact]
    public async Task A_process_that_dies_releases_its_locks()
    {
        var collection = Guid.NewGuid().ToString("N");
        var held = await _locksA.AcquireAsync(collection, ["doc-1"], default);
        var waiting = _locksB.AcquireAsync(collection, ["doc-1"], default);
        Assert.False(waiting.IsCompleted);

        // The holder's session ends the way a killed process's does: the server drops it.
        await using (var kill = _sourceB.CreateCommand("""
            SELECT pg_terminate_backend(l.pid) FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
              AND ((l.classid::bigint << 32) | l.objid::bigint) = $1
            """))
        {
            kill.Parameters.AddWithValue(PostgresDocumentLocks.KeyOf(collection, "doc-1"));
            await kill.ExecuteNonQueryAsync();
        }

        await (await waiting).DisposeAsync();
        try
        {
            // The holder learns of its lost session only when it next talks to the server.
            await held.DisposeAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
        }
    }

    [Fact]
    public async Task Batches_locking_overlapping_documents_in_any_order_never_deadlock()
    {
        var collection = Guid.NewGuid().ToString("N");
        var ids = Enumerable.Range(0, 8).Select(i => $"doc-{i}").ToList();
        var counter = 0;
        var maxInside = 0;
        var inside = 0;

        async Task Work(IDocumentLocks locks, IEnumerable<string> order)
        {
            for (var round = 0; round < 10; round++)
            {
                await using var held = await locks.AcquireAsync(collection, order, default);
                var now = Interlocked.Increment(ref inside);
                maxInside = Math.Max(maxInside, now);
                Interlocked.Increment(ref counter);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(
            Task.Run(() => Work(_locksA, ids)),
            Task.Run(() => Work(_locksB, Enumerable.Reverse(ids))),
            Task.Run(() => Work(_locksA, ids.Skip(3).Concat(ids.Take(3)))));

        Assert.Equal(30, counter);
        Assert.Equal(1, maxInside);
    }
}
