using RagPlatform.Core.Storage;
using RagPlatform.Testing;

namespace RagPlatform.Core.Tests;

/// <summary>The metadata store contract (tests/Shared) against the embedded SQLite store, one file per test.</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        var store = new SqliteMetadataStore(Path.Combine(_directory, "metadata.db"));
        await store.InitializeAsync(default);
        return store;
    }

    protected override async Task DisposeStoreAsync(IMetadataStore store)
    {
        await ((SqliteMetadataStore)store).DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
