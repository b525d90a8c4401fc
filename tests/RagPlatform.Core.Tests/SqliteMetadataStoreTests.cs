using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;
using RagPlatform.Storage.Sqlite;
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

    [Fact]
    public async Task Concurrent_and_redelivered_results_are_each_recorded_once()
    {
        // Many workers finishing at once share transactions (group commit); a redelivered message's results,
        // arriving in the same or a later batch, change nothing.
        var jobs = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var results = new List<(Guid Job, JobItemResult Result)>();
        foreach (var job in jobs)
        {
            var ids = Enumerable.Range(0, 30).Select(i => $"{job:N}-{i}").ToList();
            var tickets = await Store.SubmitAsync(Collection, job, ids.Select(id => new DocumentRequest(id, "h-" + id)).ToList(), default);
            results.AddRange(tickets.Select(t => (job, Success(t.DocumentId, t.Revision!.Value, "h-" + t.DocumentId, chunks: 2))));
        }

        var writes = results.Concat(results.Take(10)).Select(r => Task.Run(() => Store.CompleteItemsAsync(Collection, r.Job, [r.Result], default)));
        await Task.WhenAll(writes);
        await Task.WhenAll(results.Take(5).Select(r => Store.CompleteItemsAsync(Collection, r.Job, [r.Result], default)));

        foreach (var job in jobs)
        {
            var status = await Store.GetJobAsync(job, default);
            Assert.Equal(JobStates.Completed, status!.State);
            Assert.Equal(30, status.Succeeded);
            Assert.Equal(60, status.ChunksEmbedded);
            Assert.NotNull(status.CompletedAt);
        }

        var counts = await Store.GetCountsAsync(Collection, default);
        Assert.Equal(60, counts.Documents);
        Assert.Equal(120, counts.Chunks);
        Assert.Equal(0, counts.Pending);
    }

    [Fact]
    public async Task Batched_lookups_find_ids_with_quotes_backslashes_and_hangul()
    {
        string[] ids = ["문서 \"하나\"", "back\\slash", "plain"];
        var job = Guid.NewGuid();
        var tickets = await Store.SubmitAsync(Collection, job, ids.Select(id => new DocumentRequest(id, "h")).ToList(), default);
        await Store.CompleteItemsAsync(Collection, job, tickets.Select(t => Success(t.DocumentId, t.Revision!.Value, "h", chunks: 2)).ToList(), default);

        var states = await Store.GetDocumentStatesAsync(Collection, [.. ids, "absent"], default);
        var chunks = await Store.GetChunksAsync(Collection, [ids[2], ids[0]], default);
        var byHash = await Store.FindPointsByContentHashAsync(Collection, [$"{ids[1]}-content-1", "absent"], default);

        Assert.Equal(ids.Order(StringComparer.Ordinal), states.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([$"{ids[2]}-point-0", $"{ids[2]}-point-1", $"{ids[0]}-point-0", $"{ids[0]}-point-1"], chunks.Select(c => c.PointId));
        Assert.Equal(new Dictionary<string, string> { [$"{ids[1]}-content-1"] = $"{ids[1]}-point-1" }, byHash);
    }

    protected override async Task DisposeStoreAsync(IMetadataStore store)
    {
        await ((SqliteMetadataStore)store).DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
