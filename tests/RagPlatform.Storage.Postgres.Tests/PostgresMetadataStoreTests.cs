using Npgsql;
using RagPlatform.Core.Storage;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Postgres.Tests;

/// <summary>The metadata store contract (tests/Shared, also run against SQLite) on a real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMetadataStoreTests(PostgresServer server) : MetadataStoreContractTests
{
    private NpgsqlDataSource? _dataSource;

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        _dataSource = server.CreateDataSource();
        var store = new PostgresMetadataStore(_dataSource, new PostgresSchemaMigrator(_dataSource));
        await store.InitializeAsync(default);
        return store;
    }

    protected override async Task DisposeStoreAsync(IMetadataStore store)
    {
        await store.DeleteCollectionAsync(Collection, default);
        await _dataSource!.DisposeAsync();
    }
}
