using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Testing;

/// <summary>
/// The behaviour every <see cref="IMetadataStore"/> must have (seed 001's bookkeeping): revisions,
/// unchanged detection, tombstones, job counts that survive redelivery. Compiled into each store's test
/// project (SQLite in Core.Tests, PostgreSQL in Storage.Postgres.Tests), which supplies the store.
/// Each test works in its own collection, so stores may share one database.
/// </summary>
public abstract class MetadataStoreContractTests : IAsyncLifetime
{
    protected string Collection { get; } = "docs-" + Guid.NewGuid().ToString("N")[..8];

    protected IMetadataStore Store { get; private set; } = null!;

    /// <summary>A store, initialised.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();

    protected abstract Task DisposeStoreAsync(IMetadataStore store);

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), "embedded", new ChunkingSettings(256, 32));
        Assert.True(await Store.TryCreateCollectionAsync(new CollectionRecord(Collection, settings, "fp", 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), default));
    }

    public Task DisposeAsync() => DisposeStoreAsync(Store);

    [Fact]
    public async Task Resubmitting_the_same_hash_is_unchanged_and_needs_no_work()
    {
        await SubmitAndCommit("a", "h1");

        var job = Guid.NewGuid();
        var second = await Store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h1")], default);

        Assert.Null(second[0].Revision);
        var status = await Store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Equal(1, status.Unchanged);
        Assert.NotNull(status.CompletedAt);
    }

    [Fact]
    public async Task A_pending_request_for_the_same_content_is_not_queued_twice()
    {
        var first = await Store.SubmitAsync(Collection, Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);
        var second = await Store.SubmitAsync(Collection, Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);

        Assert.NotNull(first[0].Revision);
        Assert.Null(second[0].Revision);
    }

    [Fact]
    public async Task A_failed_document_can_be_retried_by_posting_it_again()
    {
        var job = Guid.NewGuid();
        var ticket = await Store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h1")], default);
        await Store.CompleteItemsAsync(Collection, job, [new JobItemResult("a", ticket[0].Revision!.Value, JobItemOutcome.Failed, "boom")], default);

        var retry = await Store.SubmitAsync(Collection, Guid.NewGuid(), [new DocumentRequest("a", "h1")], default);

        Assert.NotNull(retry[0].Revision);
        var status = await Store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Failed, status!.State);
        Assert.Equal([new JobItemError("a", "boom")], status.Errors);
    }

    [Fact]
    public async Task Redelivered_results_are_counted_once()
    {
        var job = Guid.NewGuid();
        var tickets = await Store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h1"), new DocumentRequest("b", "h2")], default);
        var result = Success("a", tickets[0].Revision!.Value, "h1", chunks: 3);

        await Store.CompleteItemsAsync(Collection, job, [result], default);
        await Store.CompleteItemsAsync(Collection, job, [result], default);

        var status = await Store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Running, status!.State);
        Assert.Equal(1, status.Processed);
        Assert.Equal(3, status.ChunksEmbedded);
    }

    [Fact]
    public async Task Committing_replaces_chunk_rows_and_bumps_the_collection_version()
    {
        await SubmitAndCommit("a", "h1", chunks: 3);
        var before = (await Store.GetCollectionAsync(Collection, default))!.Version;

        await SubmitAndCommit("a", "h2", chunks: 1);

        Assert.Single(await Store.GetChunksAsync(Collection, ["a"], default));
        Assert.True((await Store.GetCollectionAsync(Collection, default))!.Version > before);
        var counts = await Store.GetCountsAsync(Collection, default);
        Assert.Equal(new CollectionCounts(1, 1, 0), counts);
    }

    [Fact]
    public async Task Deleting_a_document_leaves_a_tombstone_that_supersedes_older_revisions()
    {
        var ticket = await SubmitAndCommit("a", "h1", chunks: 2);

        Assert.True(await Store.DeleteDocumentAsync(Collection, "a", default));
        Assert.False(await Store.DeleteDocumentAsync(Collection, "a", default));

        var state = (await Store.GetDocumentStatesAsync(Collection, ["a"], default))["a"];
        Assert.True(state.Deleted);
        Assert.True(state.RequestedRevision > ticket.Revision);
        Assert.Empty(await Store.GetChunksAsync(Collection, ["a"], default));
        Assert.Equal(0, (await Store.GetCountsAsync(Collection, default)).Documents);
    }

    [Fact]
    public async Task Points_are_found_by_content_hash_for_reuse()
    {
        await SubmitAndCommit("a", "h1", chunks: 2);

        var found = await Store.FindPointsByContentHashAsync(Collection, ["a-content-1", "missing"], default);

        Assert.Equal(new Dictionary<string, string> { ["a-content-1"] = "a-point-1" }, found);
    }

    [Fact]
    public async Task Deleting_a_collection_removes_its_documents_and_jobs()
    {
        var job = Guid.NewGuid();
        await Store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h1")], default);

        Assert.True(await Store.DeleteCollectionAsync(Collection, default));

        Assert.Null(await Store.GetCollectionAsync(Collection, default));
        Assert.Null(await Store.GetJobAsync(job, default));
    }

    [Fact]
    public async Task Creating_an_existing_collection_is_refused_and_listing_finds_it()
    {
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), "embedded", new ChunkingSettings(128, 16));
        Assert.False(await Store.TryCreateCollectionAsync(new CollectionRecord(Collection, settings, null, 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), default));

        await Store.UpdateCollectionAsync(Collection, settings, "fp2", default);

        var record = await Store.GetCollectionAsync(Collection, default);
        Assert.Equal(128, record!.Settings.Chunking.MaxTokens);
        Assert.Equal("fp2", record.Fingerprint);
        Assert.Contains(await Store.ListCollectionsAsync(default), c => c.Name == Collection);
    }

    [Fact]
    public async Task A_changed_document_is_pending_until_its_new_revision_is_committed()
    {
        var first = await SubmitAndCommit("a", "h1");
        var job = Guid.NewGuid();
        var second = await Submit("a", "h2", job);

        Assert.True(second.Revision > first.Revision);
        Assert.Equal(new CollectionCounts(1, 1, 1), await Store.GetCountsAsync(Collection, default));

        await Store.CompleteItemsAsync(Collection, job, [Success("a", second.Revision!.Value, "h2", chunks: 2)], default);

        Assert.Equal(new CollectionCounts(1, 2, 0), await Store.GetCountsAsync(Collection, default));
        var state = (await Store.GetDocumentStatesAsync(Collection, ["a", "missing"], default)).Values.Single();
        Assert.Equal(second.Revision, state.CommittedRevision);
    }

    [Fact]
    public async Task An_older_revision_never_overwrites_a_newer_commit()
    {
        var job1 = Guid.NewGuid();
        var older = await Submit("a", "h1", job1);
        var job2 = Guid.NewGuid();
        var newer = await Submit("a", "h2", job2);
        await Store.CompleteItemsAsync(Collection, job2, [Success("a", newer.Revision!.Value, "h2", chunks: 1)], default);

        await Store.CompleteItemsAsync(Collection, job1, [Success("a", older.Revision!.Value, "h1", chunks: 1)], default);

        var state = (await Store.GetDocumentStatesAsync(Collection, ["a"], default))["a"];
        Assert.Equal(newer.Revision, state.CommittedRevision);
        Assert.Null((await Submit("a", "h2")).Revision);
    }

    [Fact]
    public async Task A_new_collection_is_at_version_1_with_nothing_pending()
    {
        var record = (await Store.GetCollectionAsync(Collection, default))!;

        Assert.Equal(1, record.ActiveVersion);
        Assert.Equal(Collection, record.VectorName);
        Assert.Null(record.Reindex);
        Assert.Null(record.Retired);
    }

    [Fact]
    public async Task A_reindex_records_a_job_over_the_live_documents_and_refuses_a_second_while_running()
    {
        await SubmitAndCommit("a", "h1");
        await SubmitAndCommit("b", "h2");
        await SubmitAndCommit("gone", "h3");
        await Store.DeleteDocumentAsync(Collection, "gone", default);
        var reindex = Reindex(2);

        var documents = await Store.BeginReindexAsync(Collection, reindex, default);
        var second = await Store.BeginReindexAsync(Collection, Reindex(3), default);

        Assert.Equal(["a", "b"], documents!.Order(StringComparer.Ordinal));
        Assert.Null(second);
        var record = (await Store.GetCollectionAsync(Collection, default))!;
        Assert.Equal(1, record.ActiveVersion);
        Assert.Equal(reindex.JobId, record.Reindex!.JobId);
        Assert.Equal(ReindexStates.Running, record.Reindex.State);
        Assert.Equal("fp-b", record.Reindex.Fingerprint);
        Assert.Equal("other", record.Reindex.Settings.Embedding.Provider);
        var job = (await Store.GetJobAsync(reindex.JobId, default))!;
        Assert.Equal((2, 0, JobStates.Queued), (job.Total, job.Processed, job.State));
    }

    [Fact]
    public async Task Reindex_items_count_in_the_job_without_touching_documents_or_chunks()
    {
        await SubmitAndCommit("a", "h1", chunks: 2);
        var reindex = Reindex(2);
        await Store.BeginReindexAsync(Collection, reindex, default);
        var before = await Store.GetCountsAsync(Collection, default);

        await Store.RecordJobItemsAsync(reindex.JobId, [new JobItemResult("a", 0, JobItemOutcome.Succeeded, ChunksEmbedded: 2)], default);
        await Store.RecordJobItemsAsync(reindex.JobId, [new JobItemResult("a", 0, JobItemOutcome.Failed, "redelivered")], default);

        var job = (await Store.GetJobAsync(reindex.JobId, default))!;
        Assert.Equal((JobStates.Completed, 1, 0, 2L), (job.State, job.Succeeded, job.Failed, job.ChunksEmbedded));
        Assert.Equal(before, await Store.GetCountsAsync(Collection, default));
        Assert.Equal(2, (await Store.GetChunksAsync(Collection, ["a"], default)).Count);
    }

    [Fact]
    public async Task The_switch_makes_the_new_version_active_with_its_settings_and_bumps_the_collection_version()
    {
        await SubmitAndCommit("a", "h1");
        var before = (await Store.GetCollectionAsync(Collection, default))!;
        var reindex = Reindex(2);
        await Store.BeginReindexAsync(Collection, reindex, default);
        var retired = new RetiredVersion(1, "embedded", DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.False(await Store.SwitchVersionAsync(Collection, Guid.NewGuid(), retired, default));
        Assert.True(await Store.SwitchVersionAsync(Collection, reindex.JobId, retired, default));
        Assert.False(await Store.SwitchVersionAsync(Collection, reindex.JobId, retired, default));

        var after = (await Store.GetCollectionAsync(Collection, default))!;
        Assert.Equal(2, after.ActiveVersion);
        Assert.Equal(PhysicalNames.Of(Collection, 2), after.VectorName);
        Assert.Equal("fp-b", after.Fingerprint);
        Assert.Equal("other", after.Settings.Embedding.Provider);
        Assert.True(after.Version > before.Version);
        Assert.Null(after.Reindex);
        Assert.Equal(1, after.Retired!.Version);
        Assert.Equal("embedded", after.Retired.VectorBackend);

        Assert.False(await Store.ClearRetiredAsync(Collection, 2, default));
        Assert.True(await Store.ClearRetiredAsync(Collection, 1, default));
        Assert.Null((await Store.GetCollectionAsync(Collection, default))!.Retired);
    }

    [Fact]
    public async Task A_failed_reindex_keeps_the_active_version_and_can_be_replaced_by_a_new_one()
    {
        await SubmitAndCommit("a", "h1");
        var reindex = Reindex(2);
        await Store.BeginReindexAsync(Collection, reindex, default);

        Assert.True(await Store.FailReindexAsync(Collection, reindex.JobId, "provider down", default));
        Assert.False(await Store.FailReindexAsync(Collection, reindex.JobId, "again", default));
        Assert.False(await Store.SwitchVersionAsync(Collection, reindex.JobId, new RetiredVersion(1, "embedded", DateTimeOffset.UtcNow), default));

        var failed = (await Store.GetCollectionAsync(Collection, default))!;
        Assert.Equal((1, "fp", ReindexStates.Failed, "provider down"), (failed.ActiveVersion, failed.Fingerprint, failed.Reindex!.State, failed.Reindex.Error));
        var retry = Reindex(3);
        Assert.NotNull(await Store.BeginReindexAsync(Collection, retry, default));
        Assert.Equal(3, (await Store.GetCollectionAsync(Collection, default))!.Reindex!.TargetVersion);
    }

    [Fact]
    public async Task A_request_refused_before_submission_fails_in_the_job_and_leaves_its_document_alone()
    {
        await SubmitAndCommit("kept", "h1");
        var job = Guid.NewGuid();

        var tickets = await Store.SubmitAsync(Collection, job,
            [new DocumentRequest("kept", "", Failure: "kept: the PDF is encrypted"), new DocumentRequest("new", "", Failure: "new: empty"), new DocumentRequest("ok", "h2")],
            default);

        Assert.Equal([null, null], tickets.Take(2).Select(t => t.Revision));
        Assert.NotNull(tickets[2].Revision);
        var status = (await Store.GetJobAsync(job, default))!;
        Assert.Equal((3, 2), (status.Total, status.Failed));
        Assert.Contains(status.Errors, e => e.Id == "kept" && e.Error == "kept: the PDF is encrypted");
        var states = await Store.GetDocumentStatesAsync(Collection, ["kept", "new"], default);
        Assert.Equal("h1", states["kept"].Hash);
        Assert.False(states.ContainsKey("new"));
    }

    [Fact]
    public async Task Documents_are_listed_live_in_ordinal_id_order_page_by_page()
    {
        await SubmitAndCommit("b/문서.hwp", "h1");
        await SubmitAndCommit("a.pdf", "h2");
        await SubmitAndCommit("Z.md", "h3");
        await SubmitAndCommit("gone", "h4");
        await Store.DeleteDocumentAsync(Collection, "gone", default);
        await Submit("pending", "h5");

        var all = await Store.ListDocumentsAsync(Collection, null, 10, default);
        var page = await Store.ListDocumentsAsync(Collection, "a.pdf", 2, default);

        Assert.Equal(["Z.md", "a.pdf", "b/문서.hwp", "pending"], all.Select(d => d.Id));
        Assert.Equal([true, true, true, false], all.Select(d => d.Indexed));
        Assert.Equal(["b/문서.hwp", "pending"], page.Select(d => d.Id));
    }

    private static CollectionReindex Reindex(int target) => new(
        target,
        new CollectionSettings(new EmbeddingSelection("other", new Dictionary<string, string?> { ["Dimensions"] = "64" }), "embedded", new ChunkingSettings(256, 32)),
        "fp-b", Guid.NewGuid(), ReindexStates.Running, null, DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_deleted_document_whose_repost_fails_stays_deleted()
    {
        await SubmitAndCommit("gone", "h1", chunks: 2);
        Assert.True(await Store.DeleteDocumentAsync(Collection, "gone", default));
        var job = Guid.NewGuid();
        var ticket = await Submit("gone", "h2", job);

        await Store.CompleteItemsAsync(Collection, job, [new JobItemResult("gone", ticket.Revision!.Value, JobItemOutcome.Failed, "no vector")], default);

        Assert.True((await Store.GetDocumentStatesAsync(Collection, ["gone"], default))["gone"].Deleted);
        var counts = await Store.GetCountsAsync(Collection, default);
        Assert.Equal((0L, 0L, 0L), (counts.Documents, counts.Chunks, counts.Pending));
        Assert.Empty(await Store.ListDocumentsAsync(Collection, null, 10, default));
    }

    [Fact]
    public async Task Committing_a_changes_chunks_lets_go_of_the_vanished_rows_but_leaves_the_job_unfinished_until_its_items_are_recorded()
    {
        await SubmitAndCommit("a", "h1", chunks: 3);
        var job = Guid.NewGuid();
        var ticket = await Submit("a", "h2", job);
        var result = Success("a", ticket.Revision!.Value, "h2", chunks: 1);
        var before = (await Store.GetCollectionAsync(Collection, default))!.Version;

        await Store.CommitChunksAsync(Collection, [result], default);

        Assert.Equal(["a-point-0"], (await Store.GetChunksAsync(Collection, ["a"], default)).Select(c => c.PointId));
        Assert.Equal(ticket.Revision, (await Store.GetDocumentStatesAsync(Collection, ["a"], default))["a"].CommittedRevision);
        var pending = await Store.GetJobAsync(job, default);
        Assert.Equal((JobStates.Queued, 0), (pending!.State, pending.Processed));
        Assert.Null(pending.CompletedAt);
        var committed = (await Store.GetCollectionAsync(Collection, default))!.Version;
        Assert.True(committed > before);

        await Store.CompleteItemsAsync(Collection, job, [result], default);

        var done = await Store.GetJobAsync(job, default);
        Assert.Equal((JobStates.Completed, 1, 1), (done!.State, done.Processed, done.Succeeded));
        Assert.Equal(["a-point-0"], (await Store.GetChunksAsync(Collection, ["a"], default)).Select(c => c.PointId));
        Assert.True((await Store.GetCollectionAsync(Collection, default))!.Version > committed);
    }

    [Fact]
    public async Task Committing_chunks_leaves_a_failed_document_for_the_jobs_completion_to_settle()
    {
        var job = Guid.NewGuid();
        var ticket = await Submit("a", "h1", job);
        var failed = new JobItemResult("a", ticket.Revision!.Value, JobItemOutcome.Failed, "no vector");

        await Store.CommitChunksAsync(Collection, [failed], default);
        Assert.Null((await Submit("a", "h1")).Revision);

        await Store.CompleteItemsAsync(Collection, job, [failed], default);
        Assert.Equal(JobStates.Failed, (await Store.GetJobAsync(job, default))!.State);
        Assert.NotNull((await Submit("a", "h1")).Revision);
    }

    [Fact]
    public async Task Marking_a_collection_changed_moves_its_version_on()
    {
        var before = (await Store.GetCollectionAsync(Collection, default))!.Version;

        await Store.MarkChangedAsync(Collection, default);

        Assert.Equal(before + 1, (await Store.GetCollectionAsync(Collection, default))!.Version);
    }

    protected async Task<DocumentTicket> Submit(string id, string hash, Guid? job = null) =>
        (await Store.SubmitAsync(Collection, job ?? Guid.NewGuid(), [new DocumentRequest(id, hash)], default))[0];

    /// <summary>Submits and commits in one job, as the worker would.</summary>
    protected async Task<DocumentTicket> SubmitAndCommit(string id, string hash, int chunks = 1)
    {
        var job = Guid.NewGuid();
        var ticket = await Submit(id, hash, job);
        await Store.CompleteItemsAsync(Collection, job, [Success(id, ticket.Revision!.Value, hash, chunks)], default);
        return ticket;
    }

    [Fact]
    public async Task A_jobs_state_moves_from_queued_through_running_to_its_outcome_by_the_shared_rules()
    {
        var job = Guid.NewGuid();
        var tickets = await Store.SubmitAsync(Collection, job, [new DocumentRequest("a", "h1"), new DocumentRequest("b", "h2"), new DocumentRequest("c", "h3")], default);
        Assert.Equal(JobStates.Queued, (await Store.GetJobAsync(job, default))!.State);

        await Store.CompleteItemsAsync(Collection, job, [Success("a", tickets[0].Revision!.Value, "h1", chunks: 1)], default);
        var running = await Store.GetJobAsync(job, default);
        Assert.Equal(JobStates.Running, running!.State);
        Assert.Null(running.CompletedAt);

        await Store.CompleteItemsAsync(Collection, job,
            [Success("b", tickets[1].Revision!.Value, "h2", chunks: 1), new JobItemResult("c", tickets[2].Revision!.Value, JobItemOutcome.Failed, "unreadable")], default);
        var done = await Store.GetJobAsync(job, default);
        Assert.Equal(JobStates.CompletedWithErrors, done!.State);
        Assert.Equal(JobStatusRules.StateOf(done.Total, done.Processed, done.Failed), done.State);
        Assert.Equal([new JobItemError("c", "unreadable")], done.Errors);
        Assert.NotNull(done.CompletedAt);

        var allFailed = Guid.NewGuid();
        var failing = await Store.SubmitAsync(Collection, allFailed, [new DocumentRequest("d", "h4")], default);
        await Store.CompleteItemsAsync(Collection, allFailed, [new JobItemResult("d", failing[0].Revision!.Value, JobItemOutcome.Failed, "boom")], default);
        Assert.Equal(JobStates.Failed, (await Store.GetJobAsync(allFailed, default))!.State);
    }

    protected static JobItemResult Success(string id, long revision, string hash, int chunks) => new(
        id, revision, JobItemOutcome.Succeeded, DocumentHash: hash,
        Chunks: Enumerable.Range(0, chunks).Select(i => new StoredChunk($"{id}-point-{i}", id, i, $"{id}-content-{i}", "p")).ToList(),
        ChunksEmbedded: chunks);
}
