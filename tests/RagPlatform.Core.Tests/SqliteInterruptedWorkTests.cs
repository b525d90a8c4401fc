using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Core.Tests;

/// <summary>
/// What the embedded store remembers of queued work, so that a restart after a crash (the in-memory bus lost its
/// messages) ends every job with a reason instead of leaving it running forever.
/// </summary>
public sealed class SqliteInterruptedWorkTests : IAsyncLifetime
{
    private const string Collection = "docs";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-store-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteMetadataStore(Path.Combine(_directory, "metadata.db"));
        await _store.InitializeAsync(default);
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), "embedded", new ChunkingSettings(256, 32));
        Assert.True(await _store.TryCreateCollectionAsync(new CollectionRecord(Collection, settings, "fp", 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), default));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Documents_queued_but_never_recorded_fail_with_the_reason_and_their_requests_are_withdrawn()
    {
        var job = Guid.NewGuid();
        var tickets = await _store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h-a"), new DocumentRequest("b", "h-b")], default);
        await _store.CompleteItemsAsync(Collection, job, [Success("a", tickets[0].Revision!.Value, "h-a")], default);

        var interrupted = await _store.FailQueuedItemsAsync("lost with the process", default);

        Assert.Equal([new InterruptedJob(Collection, job, 1, Reindex: false)], interrupted);
        var status = await _store.GetJobAsync(job, default);
        Assert.Equal(JobStates.CompletedWithErrors, status!.State);
        Assert.Equal([new JobItemError("b", "lost with the process")], status.Errors);
        Assert.NotNull(status.CompletedAt);
        // "b" is no longer pending: posting the same content again is new work, not "unchanged".
        Assert.Equal(0, (await _store.GetCountsAsync(Collection, default)).Pending);
        Assert.NotNull((await _store.SubmitAsync(Collection, Guid.NewGuid(), [new DocumentRequest("b", "h-b")], default))[0].Revision);
        Assert.Equal(["a-0"], await _store.ListPointIdsAsync(Collection, default));
    }

    [Fact]
    public async Task A_document_whose_chunks_were_committed_before_the_crash_counts_as_succeeded_not_lost()
    {
        var job = Guid.NewGuid();
        var tickets = await _store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h-a"), new DocumentRequest("b", "h-b")], default);
        // The worker's first write of a change that removes chunks; it stopped before recording the job's items.
        await _store.CommitChunksAsync(Collection, [Success("a", tickets[0].Revision!.Value, "h-a")], default);

        var interrupted = await _store.FailQueuedItemsAsync("lost", default);

        Assert.Equal([new InterruptedJob(Collection, job, 1, Reindex: false)], interrupted);
        var status = await _store.GetJobAsync(job, default);
        Assert.Equal((JobStates.CompletedWithErrors, 1, 1), (status!.State, status.Succeeded, status.Failed));
        Assert.Equal([new JobItemError("b", "lost")], status.Errors);
        Assert.Equal(1, (await _store.GetCountsAsync(Collection, default)).Documents);
        Assert.Null((await _store.SubmitAsync(Collection, Guid.NewGuid(), [new DocumentRequest("a", "h-a")], default))[0].Revision);
        Assert.Empty(await _store.FailQueuedItemsAsync("again", default));
    }

    [Fact]
    public async Task A_reindex_job_s_uncopied_documents_fail_and_recorded_work_leaves_nothing_queued()
    {
        var ingest = Guid.NewGuid();
        var tickets = await _store.SubmitAsync(Collection, ingest, [new DocumentRequest("a", "h-a"), new DocumentRequest("b", "h-b")], default);
        await _store.CompleteItemsAsync(Collection, ingest, tickets.Select(t => Success(t.DocumentId, t.Revision!.Value, "h-" + t.DocumentId)).ToList(), default);
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?> { ["Dimensions"] = "256" }), "embedded", new ChunkingSettings(256, 32));
        var reindex = new CollectionReindex(2, settings, "fp2", Guid.NewGuid(), ReindexStates.Running, null, DateTimeOffset.UtcNow);
        Assert.Equal(["a", "b"], await _store.BeginReindexAsync(Collection, reindex, default));
        await _store.RecordJobItemsAsync(reindex.JobId, [new JobItemResult("a", 0, JobItemOutcome.Succeeded)], default);

        var interrupted = await _store.FailQueuedItemsAsync("lost", default);

        Assert.Equal([new InterruptedJob(Collection, reindex.JobId, 1, Reindex: true)], interrupted);
        var status = await _store.GetJobAsync(reindex.JobId, default);
        Assert.Equal([new JobItemError("b", "lost")], status!.Errors);
        Assert.NotNull(status.CompletedAt);
        Assert.Empty(await _store.FailQueuedItemsAsync("again", default));
        // Re-index items never touch documents or chunk rows.
        Assert.Equal(2, (await _store.GetCountsAsync(Collection, default)).Documents);
    }

    private static JobItemResult Success(string id, long revision, string hash) => new(
        id, revision, JobItemOutcome.Succeeded, DocumentHash: hash,
        Chunks: [new StoredChunk($"{id}-0", id, 0, $"{id}-content", "p")], ChunksEmbedded: 1);
}
