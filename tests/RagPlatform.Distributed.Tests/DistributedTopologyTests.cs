using System.Net;
using System.Net.Http.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Distributed.Tests;

/// <summary>
/// The issue's done-when list, on real RabbitMQ and Redis and the three services as separate processes.
/// Each test uses its own collection; they share one topology (starting RabbitMQ is the slow part).
/// </summary>
[Collection(DistributedStackCollection.Name)]
public sealed class DistributedTopologyTests(DistributedStack stack)
{
    private const int LargeBatch = 5_000;

    [Fact]
    public async Task Documents_ingested_through_the_ingestion_service_are_found_through_the_query_api()
    {
        var job = await stack.PostDocumentsAsync("dist-find",
        [
            new DocumentInput("loan-1", "대출 금리", "주택담보대출 변동금리가 0.25%포인트 올랐다. 고정금리로 갈아탈 수 있다.", ["finance"], null),
            new DocumentInput("health-1", "건강검진", "검진 전날 밤 9시부터 금식해야 한다. 물은 조금 마셔도 된다.", ["health"], null),
            new DocumentInput("game-1", "던전 공략", "보스 몬스터는 화염 속성에 약하다. 얼음 방패를 준비하자.", ["game"], null),
        ]);

        var done = await stack.WaitForJobAsync(job.JobId);
        Assert.Equal("completed", done.State);
        Assert.Equal(3, done.Succeeded);

        foreach (var mode in new[] { "hybrid", "dense", "lexical" })
        {
            var found = await stack.SearchAsync("dist-find", "검진 전날 금식", mode);
            Assert.Equal("health-1", found.Results[0].DocumentId);
        }

        // The broker's password is in every process's environment, never in what they log.
        foreach (var service in new[] { "ingestion", "query-api", "worker-1", "worker-2" })
        {
            Assert.DoesNotContain("guest:guest", stack.ServiceLog(service), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_poison_message_lands_in_the_error_queue_and_the_workers_keep_consuming()
    {
        var before = await stack.QueueDepthAsync(DistributedStack.EmbedErrorQueue);

        // A body no worker can read: MassTransit cannot retry it into shape, so it must end in the error queue
        // (kept for inspection), not loop, not vanish, and not stop the workers.
        await stack.PublishRawAsync(DistributedStack.EmbedQueue, "application/vnd.masstransit+json", "{\"message\": [not json"u8.ToArray());

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await stack.QueueDepthAsync(DistributedStack.EmbedErrorQueue) < before + 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the poison message did not reach the error queue within a minute");
            await Task.Delay(200);
        }

        var job = await stack.PostDocumentsAsync("dist-after-poison",
            [new DocumentInput("after-1", "건강검진", "검진 전날 밤 9시부터 금식해야 한다.", ["health"], null)]);
        var done = await stack.WaitForJobAsync(job.JobId);
        Assert.Equal("completed", done.State);
        Assert.Equal(1, done.Succeeded);
        Assert.Equal(before + 1, await stack.QueueDepthAsync(DistributedStack.EmbedErrorQueue));
    }

    [Fact]
    public async Task Two_workers_share_the_queue_and_embed_each_chunk_of_5000_documents_exactly_once()
    {
        var before = await EmbeddedByWorkersAsync();

        var job = await stack.PostDocumentsAsync("dist-shared", Documents("shared", LargeBatch));
        var done = await stack.WaitForJobAsync(job.JobId);

        Assert.Equal("completed", done.State);
        Assert.Equal(LargeBatch, done.Succeeded);
        Assert.Equal(LargeBatch, done.ChunksEmbedded);
        Assert.Equal(0, done.ChunksReused);
        Assert.Equal(LargeBatch, await stack.CountVectorsAsync("dist-shared"));
        var stats = await stack.GetCollectionAsync("dist-shared");
        Assert.Equal(LargeBatch, stats.Chunks);
        Assert.Equal(LargeBatch, stats.Embedded);

        // Both replicas took work from the one queue, and together they embedded every chunk once: the sum of
        // what each process reports embedding is exactly the number of chunks.
        var after = await EmbeddedByWorkersAsync();
        var perWorker = after.Zip(before, (a, b) => a - b).ToArray();
        Assert.All(perWorker, embedded => Assert.True(embedded > 0, $"a worker embedded nothing: [{string.Join(", ", perWorker)}]"));
        Assert.Equal(LargeBatch, perWorker.Sum());
    }

    [Fact]
    public async Task A_worker_killed_mid_ingestion_and_restarted_leaves_exactly_the_expected_chunks_and_a_completed_job()
    {
        var job = await stack.PostDocumentsAsync("dist-kill", Documents("kill", LargeBatch));
        var status = await stack.GetJobAsync(job.JobId);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (status.Processed == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never started");
            await Task.Delay(20);
            status = await stack.GetJobAsync(job.JobId);
        }

        stack.KillService("worker-1");
        var atKill = await stack.GetJobAsync(job.JobId);
        await stack.StartServiceAsync("worker-1");
        var done = await stack.WaitForJobAsync(job.JobId);

        Assert.True(atKill.Processed < LargeBatch, "the kill came after the job had finished; it proves nothing");
        Assert.Equal("completed", done.State);
        Assert.Equal(LargeBatch, done.Succeeded);
        Assert.Equal(0, done.Failed);
        Assert.Equal(LargeBatch, await stack.CountVectorsAsync("dist-kill"));
        var stats = await stack.GetCollectionAsync("dist-kill");
        Assert.Equal(LargeBatch, stats.Documents);
        Assert.Equal(LargeBatch, stats.Chunks);
        Assert.Equal(0, stats.Pending);
    }

    [Fact]
    public async Task Rabbitmq_stopped_and_restarted_mid_ingestion_loses_nothing()
    {
        const int batches = 20;
        const int perBatch = 100;
        var jobs = new List<Guid>();
        var refused = 0;
        var restarted = false;
        var deadline = DateTime.UtcNow.AddMinutes(8);
        for (var b = 0; b < batches; b++)
        {
            if (b == batches / 4)
            {
                // Messages of the first jobs are queued or in flight: stop the broker under them.
                await stack.StopServerAsync("rabbitmq");
            }

            var documents = Documents($"restart-{b}", perBatch);
            while (true)
            {
                using var response = await stack.Ingestion.PostAsJsonAsync("/v1/collections/dist-restart/documents", documents, DistributedStack.Json);
                if (response.IsSuccessStatusCode)
                {
                    jobs.Add((await response.Content.ReadFromJsonAsync<JobAccepted>(DistributedStack.Json))!.JobId);
                    break;
                }

                // While the broker is away the ingestion service says so (503) instead of accepting work it cannot queue.
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                refused++;
                Assert.True(DateTime.UtcNow < deadline, "ingestion never recovered");
                if (!restarted)
                {
                    await stack.StartServerAsync("rabbitmq");
                    restarted = true;
                }
            }

            if (b == batches / 4 && !restarted)
            {
                await stack.StartServerAsync("rabbitmq");
                restarted = true;
            }
        }

        foreach (var jobId in jobs)
        {
            var done = await stack.WaitForJobAsync(jobId);
            Assert.Equal("completed", done.State);
        }

        Assert.Equal(batches * perBatch, await stack.CountVectorsAsync("dist-restart"));
        var stats = await stack.GetCollectionAsync("dist-restart");
        Assert.Equal(batches * perBatch, stats.Documents);
        Assert.Equal(batches * perBatch, stats.Embedded);
        Assert.Equal(0, stats.Pending);
        Assert.True(refused > 0, "no post was refused while the broker was down; the outage proved nothing");
    }

    [Fact]
    public async Task Searches_answer_while_redis_is_down_and_caching_resumes_when_it_returns()
    {
        var job = await stack.PostDocumentsAsync("dist-cache", Documents("cache", 50));
        Assert.Equal("completed", (await stack.WaitForJobAsync(job.JobId)).State);

        Assert.False((await stack.SearchAsync("dist-cache", "문서 7번 설명")).Cached);
        Assert.True((await stack.SearchAsync("dist-cache", "문서 7번 설명")).Cached);
        Assert.NotEqual("0", await stack.RedisAsync("DBSIZE"));

        await stack.StopServerAsync("redis");
        for (var i = 0; i < 5; i++)
        {
            var answer = await stack.SearchAsync("dist-cache", $"문서 {10 + i}번 항목");
            Assert.False(answer.Cached);
            Assert.NotEmpty(answer.Results);
        }

        // Same port, empty (no persistence): anything in it now was written after it came back.
        await stack.StartServerAsync("redis");
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var probe = 0;
        while (await stack.RedisAsync("DBSIZE") == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "nothing was cached in Redis after it returned");
            await stack.SearchAsync("dist-cache", $"문서 {20 + probe++}번 다시");
            await Task.Delay(250);
        }
    }

    private async Task<double[]> EmbeddedByWorkersAsync() =>
    [
        await stack.ReadCounterAsync("WORKER_1_URL", "ragplatform_chunks_total", "outcome=\"embedded\""),
        await stack.ReadCounterAsync("WORKER_2_URL", "ragplatform_chunks_total", "outcome=\"embedded\""),
    ];

    /// <summary>Distinct one-chunk Korean documents: n documents are exactly n chunks, none sharing text.</summary>
    [Fact]
    public async Task A_reindex_runs_through_the_workers_while_the_query_api_keeps_answering_then_switches()
    {
        const int count = 300;
        var ingest = await stack.WaitForJobAsync((await stack.PostDocumentsAsync("dist-reindex", Documents("reindex", count))).JobId);
        Assert.Equal("completed", ingest.State);

        using var response = await stack.Ingestion.PostAsJsonAsync("/v1/collections/dist-reindex/reindex",
            new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } }, DistributedStack.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<ReindexAccepted>(DistributedStack.Json))!;

        // Every search answers, with results, until the collection shows the switch (bounded by count, not time).
        CollectionStats stats;
        var searches = 0;
        do
        {
            Assert.NotEmpty((await stack.SearchAsync("dist-reindex", $"문서 {searches % count}번 항목", searches % 2 == 0 ? "hybrid" : "dense")).Results);
            stats = await stack.GetCollectionAsync("dist-reindex");
            Assert.True(++searches < 20_000, $"re-index still {stats.Reindex}");
        }
        while (stats.Reindex is { State: "running" });

        Assert.Null(stats.Reindex);
        Assert.Equal((2, "dist-reindex__v2"), (stats.ActiveVersion, stats.VectorCollection));
        Assert.Contains("dim=256;", stats.ModelFingerprint, StringComparison.Ordinal);
        Assert.Equal("completed", (await stack.GetJobAsync(accepted.JobId)).State);
        Assert.Equal(stats.Chunks, await stack.CountVectorsAsync("dist-reindex__v2"));
        Assert.Equal("reindex-00042", (await stack.SearchAsync("dist-reindex", "식별자 reindex-00042", "lexical")).Results[0].DocumentId);
    }

    private static List<DocumentInput> Documents(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => new DocumentInput(
            $"{prefix}-{i:D5}", $"문서 {i}",
            $"문서 {i}번 항목의 설명입니다. 식별자 {prefix}-{i:D5} 는 이 문서에만 있다. 검색 시험용 짧은 글이다.",
            ["bulk"], null)).ToList();
}
