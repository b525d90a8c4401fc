using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Core.Tests;

public sealed class SqliteMetadataStoreTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-store-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteMetadataStore(Path.Combine(_directory, "metadata.db"));
        await _store.InitializeAsync(default);
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), "embedded", new ChunkingSettings(256, 32));
        Assert.True(await _store.TryCreateCollectionAsync(new CollectionRecord("docs", settings, "fp", 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), default));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Resubmitting_the_same_hash_is_unchanged_and_needs_no_work()
    {
        await SubmitAndCommit("a", "h1");

        var job = Guid.NewGuid();
        var second = await _store.SubmitAsync("docs", job, [new DocumentRequest("a", "h1")], default);

        Assert.Null(second[0].Revision);
        var status = await _store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Equal(1, status.Unchanged);
        Assert.NotNull(status.CompletedAt);
    }

    [Fact]
    public async Task A_pending_request_for_the_same_content_is_not_queued_twice()
    {
        var first = await _store.SubmitAsync("docs", Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);
        var second = await _store.SubmitAsync("docs", Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);

        Assert.NotNull(first[0].Revision);
        Assert.Null(second[0].Revision);
    }

    [Fact]
    public async Task A_failed_document_can_be_retried_by_posting_it_again()
    {
        var job = Guid.NewGuid();
        var ticket = await _store.SubmitAsync("docs", job, [new DocumentRequest("a", "h1")], default);
        await _store.CompleteItemsAsync("docs", job, [new JobItemResult("a", ticket[0].Revision!.Value, JobItemOutcome.Failed, "boom")], default);

        var retry = await _store.SubmitAsync("docs", Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);

        Assert.NotNull(retry[0].Revision);
        var status = await _store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Failed, status!.State);
        Assert.Equal([new JobItemError("a", "boom")], status.Errors);
    }

    [Fact]
    public async Task Redelivered_results_are_counted_once()
    {
        var job = Guid.NewGuid();
        var tickets = await _store.SubmitAsync("docs", job, [new DocumentRequest("a", "h1"), new DocumentRequest("b", "h2")], default);
        var result = Success("a", tickets[0].Revision!.Value, "h1", chunks: 3);

        await _store.CompleteItemsAsync("docs", job, [result], default);
        await _store.CompleteItemsAsync("docs", job, [result], default);

        var status = await _store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Running, status!.State);
        Assert.Equal(1, status.Processed);
        Assert.Equal(3, status.ChunksEmbedded);
    }

    [Fact]
    public async Task Committing_replaces_chunk_rows_and_bumps_the_collection_version()
    {
        await SubmitAndCommit("a", "h1", chunks: 3);
        var before = (await _store.GetCollectionAsync("docs", default))!.Version;

        await SubmitAndCommit("a", "h2", chunks: 1);

        Assert.Single(await _store.GetChunksAsync("docs", ["a"], default));
        Assert.True((await _store.GetCollectionAsync("docs", default))!.Version > before);
        var counts = await _store.GetCountsAsync("docs", default);
        Assert.Equal(new CollectionCounts(1, 1, 0), counts);
    }

    [Fact]
    public async Task Deleting_a_document_leaves_a_tombstone_that_supersedes_older_revisions()
    {
        var ticket = await SubmitAndCommit("a", "h1", chunks: 2);

        Assert.True(await _store.DeleteDocumentAsync("docs", "a", default));
        Assert.False(await _store.DeleteDocumentAsync("docs", "a", default));

        var state = (await _store.GetDocumentStatesAsync("docs", ["a"], default))["a"];
        Assert.True(state.Deleted);
        Assert.True(state.RequestedRevision > ticket.Revision);
        Assert.Empty(await _store.GetChunksAsync("docs", ["a"], default));
        Assert.Equal(0, (await _store.GetCountsAsync("docs", default)).Documents);
    }

    [Fact]
    public async Task Points_are_found_by_content_hash_for_reuse()
    {
        await SubmitAndCommit("a", "h1", chunks: 2);

        var found = await _store.FindPointsByContentHashAsync("docs", ["a-content-1", "missing"], default);

        Assert.Equal(new Dictionary<string, string> { ["a-content-1"] = "a-point-1" }, found);
    }

    [Fact]
    public async Task Deleting_a_collection_removes_its_documents_and_jobs()
    {
        var job = Guid.NewGuid();
        await _store.SubmitAsync("docs", job, [new DocumentRequest("a", "h1")], default);

        Assert.True(await _store.DeleteCollectionAsync("docs", default));

        Assert.Null(await _store.GetCollectionAsync("docs", default));
        Assert.Null(await _store.GetJobAsync(job, default));
    }

    private async Task<DocumentTicket> Submit(string id, string hash, Guid? job = null) =>
        (await _store.SubmitAsync("docs", job ?? Guid.NewGuid(), [new DocumentRequest(id, hash)], default))[0];

    /// <summary>Submits and commits in one job, as the worker would.</summary>
    private async Task<DocumentTicket> SubmitAndCommit(string id, string hash, int chunks = 1)
    {
        var job = Guid.NewGuid();
        var ticket = await Submit(id, hash, job);
        await _store.CompleteItemsAsync("docs", job, [Success(id, ticket.Revision!.Value, hash, chunks)], default);
        return ticket;
    }

    private static JobItemResult Success(string id, long revision, string hash, int chunks) => new(
        id, revision, JobItemOutcome.Succeeded, DocumentHash: hash,
        Chunks: Enumerable.Range(0, chunks).Select(i => new StoredChunk($"{id}-point-{i}", id, i, $"{id}-content-{i}", "p")).ToList(),
        ChunksEmbedded: chunks);
}
