using Npgsql;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres.Tests;

/// <summary>
/// Two stores on two data sources stand for two worker processes: separate connection pools, no shared
/// memory, only the database between them. Whatever interleaving the race produces, the counts are exact.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrentWorkerTests(PostgresServer server) : IAsyncLifetime
{
    private readonly string _collection = "race-" + Guid.NewGuid().ToString("N")[..8];
    private NpgsqlDataSource _sourceA = null!;
    private NpgsqlDataSource _sourceB = null!;
    private PostgresMetadataStore _storeA = null!;
    private PostgresMetadataStore _storeB = null!;

    public async Task InitializeAsync()
    {
        _sourceA = server.CreateDataSource();
        _sourceB = server.CreateDataSource();
        _storeA = new PostgresMetadataStore(_sourceA, new PostgresSchemaMigrator(_sourceA));
        _storeB = new PostgresMetadataStore(_sourceB, new PostgresSchemaMigrator(_sourceB));
        await Task.WhenAll(_storeA.InitializeAsync(default), _storeB.InitializeAsync(default));
        var settings = new CollectionSettings(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), "embedded", new ChunkingSettings(256, 32));
        Assert.True(await _storeA.TryCreateCollectionAsync(new CollectionRecord(_collection, settings, "fp", 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), default));
    }

    public async Task DisposeAsync()
    {
        await _storeA.DeleteCollectionAsync(_collection, default);
        await _sourceA.DisposeAsync();
        await _sourceB.DisposeAsync();
    }

    [Fact]
    public async Task Two_processes_completing_items_of_one_job_count_each_item_once_and_complete_the_job()
    {
        const int documents = 60;
        var job = Guid.NewGuid();
        var tickets = await _storeA.SubmitAsync(_collection, job,
            Enumerable.Range(0, documents).Select(i => new DocumentRequest($"d{i:D3}", $"h{i}")).ToList(), default);
        var results = tickets.Select(t => Success(t.DocumentId, t.Revision!.Value, "h" + int.Parse(t.DocumentId[1..]), chunks: 2)).ToList();

        // Each "process" completes every item in batches of 3, in opposite orders, so every item is also
        // delivered twice (a redelivery racing the first delivery).
        var batches = results.Chunk(3).ToList();
        await Task.WhenAll(
            Task.Run(async () => { foreach (var batch in batches) { await _storeA.CompleteItemsAsync(_collection, job, batch, default); } }),
            Task.Run(async () => { foreach (var batch in Enumerable.Reverse(batches)) { await _storeB.CompleteItemsAsync(_collection, job, batch, default); } }));

        var status = await _storeB.GetJobAsync(job, default);
        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Equal(documents, status.Processed);
        Assert.Equal(documents, status.Succeeded);
        Assert.Equal(2L * documents, status.ChunksEmbedded);
        Assert.NotNull(status.CompletedAt);
        Assert.Equal(new CollectionCounts(documents, 2 * documents, 0), await _storeA.GetCountsAsync(_collection, default));
    }

    [Fact]
    public async Task The_same_documents_submitted_by_two_processes_at_once_are_queued_once()
    {
        const int documents = 40;
        var batch = Enumerable.Range(0, documents).Select(i => new DocumentRequest($"d{i:D3}", $"h{i}")).ToList();
        var jobs = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();

        var answers = await Task.WhenAll(jobs.Select((job, i) =>
            Task.Run(() => (i % 2 == 0 ? _storeA : _storeB).SubmitAsync(_collection, job, batch, default))));

        // Every document got exactly one revision across the six jobs; the other five saw it pending.
        var queued = answers.SelectMany(a => a).Where(t => t.Revision is not null).ToList();
        Assert.Equal(documents, queued.Count);
        Assert.Equal(documents, queued.Select(t => t.DocumentId).Distinct().Count());
        Assert.Equal(new CollectionCounts(0, 0, documents), await _storeA.GetCountsAsync(_collection, default));
        var unchanged = 0;
        foreach (var job in jobs)
        {
            unchanged += (await _storeB.GetJobAsync(job, default))!.Unchanged;
        }

        Assert.Equal(5 * documents, unchanged);
    }

    [Fact]
    public async Task A_document_resubmitted_while_being_embedded_ends_at_its_newest_content()
    {
        const int documents = 30;
        var job1 = Guid.NewGuid();
        var first = await _storeA.SubmitAsync(_collection, job1,
            Enumerable.Range(0, documents).Select(i => new DocumentRequest($"d{i:D3}", "old")).ToList(), default);
        var job2 = Guid.NewGuid();

        // Process A commits the old revisions while process B submits new content for the same documents.
        var commit = Task.Run(async () =>
        {
            foreach (var ticket in first)
            {
                await _storeA.CompleteItemsAsync(_collection, job1, [Success(ticket.DocumentId, ticket.Revision!.Value, "old", 1)], default);
            }
        });
        var resubmit = Task.Run(() => _storeB.SubmitAsync(_collection, job2,
            Enumerable.Range(0, documents).Select(i => new DocumentRequest($"d{i:D3}", "new")).ToList(), default));
        await Task.WhenAll(commit, resubmit);
        var second = await resubmit;

        Assert.All(second, t => Assert.NotNull(t.Revision));
        Assert.Equal(new CollectionCounts(documents, documents, documents), await _storeA.GetCountsAsync(_collection, default));

        // The worker then commits the new revisions; an older result arriving late changes nothing.
        await _storeB.CompleteItemsAsync(_collection, job2, second.Select(t => Success(t.DocumentId, t.Revision!.Value, "new", 1)).ToList(), default);
        await _storeA.CompleteItemsAsync(_collection, job1, first.Select(t => Success(t.DocumentId, t.Revision!.Value, "old", 1)).ToList(), default);
        var states = await _storeA.GetDocumentStatesAsync(_collection, second.Select(t => t.DocumentId).ToList(), default);
        Assert.All(second, t => Assert.Equal(t.Revision, states[t.DocumentId].CommittedRevision));
        Assert.Equal(JobStates.Completed, (await _storeA.GetJobAsync(job2, default))!.State);
        Assert.All(await _storeB.SubmitAsync(_collection, Guid.NewGuid(), [new DocumentRequest("d000", "new")], default), t => Assert.Null(t.Revision));
    }

    [Fact]
    public async Task Deletes_racing_submissions_leave_every_document_either_deleted_or_pending()
    {
        const int documents = 30;
        var ids = Enumerable.Range(0, documents).Select(i => $"d{i:D3}").ToList();
        var job = Guid.NewGuid();
        var tickets = await _storeA.SubmitAsync(_collection, job, ids.Select(id => new DocumentRequest(id, "v1")).ToList(), default);
        await _storeA.CompleteItemsAsync(_collection, job, tickets.Select(t => Success(t.DocumentId, t.Revision!.Value, "v1", 1)).ToList(), default);

        var deletes = Task.Run(async () =>
        {
            var deleted = 0;
            foreach (var id in ids)
            {
                deleted += await _storeA.DeleteDocumentAsync(_collection, id, default) ? 1 : 0;
            }

            return deleted;
        });
        var submits = Task.Run(async () =>
        {
            foreach (var id in Enumerable.Reverse(ids))
            {
                await _storeB.SubmitAsync(_collection, Guid.NewGuid(), [new DocumentRequest(id, "v2")], default);
            }
        });
        await Task.WhenAll(deletes, submits);

        var states = await _storeA.GetDocumentStatesAsync(_collection, ids, default);
        var deletedNow = states.Values.Count(s => s.Deleted);
        var pending = (await _storeA.GetCountsAsync(_collection, default)).Pending;
        Assert.Equal(documents, deletedNow + pending);
        Assert.Equal(documents, await deletes);
        var deletedIds = states.Values.Where(s => s.Deleted).Select(s => s.DocumentId).ToList();
        Assert.Empty(await _storeB.GetChunksAsync(_collection, deletedIds, default));
    }

    private static JobItemResult Success(string id, long revision, string hash, int chunks) => new(
        id, revision, JobItemOutcome.Succeeded, DocumentHash: hash,
        Chunks: Enumerable.Range(0, chunks).Select(i => new StoredChunk($"{id}-{hash}-{i}", id, i, $"{id}-{hash}-content-{i}", "p")).ToList(),
        ChunksEmbedded: chunks);
}
