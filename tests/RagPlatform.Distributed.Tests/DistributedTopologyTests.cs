using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RagPlatform.Contracts.Http;
using StackExchange.Redis;

namespace RagPlatform.Distributed.Tests;

/// <summary>
/// The distributed topology as the AppHost runs it (Local infrastructure: real RabbitMQ, PostgreSQL and Redis; the three
/// services as processes, two worker replicas). Each test uses its own collection; they share one AppHost (starting it is
/// the slow part). Faults are what an operator does from the dashboard: stop and start a resource, or a process killed.
/// </summary>
[Collection(DistributedAppCollection.Name)]
public sealed class DistributedTopologyTests(DistributedApp stack)
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

        // The broker's password is in the services' environment, never in what they log.
        var loggers = stack.App.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var instance in new[] { "ingestion", "query", "embedding-worker" }.SelectMany(stack.Instances))
        {
            var lines = new List<string>();
            await foreach (var batch in loggers.GetAllAsync(instance.Id))
            {
                lines.AddRange(batch.Select(l => l.Content));
            }

            Assert.NotEmpty(lines);
            Assert.DoesNotContain(lines, line => line.Contains(stack.MessagingPassword, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_poison_message_lands_in_the_error_queue_and_the_workers_keep_consuming()
    {
        var before = await QueueDepthAsync(DistributedApp.EmbedErrorQueue);

        // A body no worker can read: MassTransit cannot retry it into shape, so it must end in the error queue
        // (kept for inspection), not loop, not vanish, and not stop the workers.
        await PublishRawAsync(DistributedApp.EmbedQueue, "application/vnd.masstransit+json", "{\"message\": [not json"u8.ToArray());

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await QueueDepthAsync(DistributedApp.EmbedErrorQueue) < before + 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the poison message did not reach the error queue within a minute");
            await Task.Delay(200);
        }

        var job = await stack.PostDocumentsAsync("dist-after-poison",
            [new DocumentInput("after-1", "건강검진", "검진 전날 밤 9시부터 금식해야 한다.", ["health"], null)]);
        var done = await stack.WaitForJobAsync(job.JobId);
        Assert.Equal("completed", done.State);
        Assert.Equal(1, done.Succeeded);
        Assert.Equal(before + 1, await QueueDepthAsync(DistributedApp.EmbedErrorQueue));
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
    public async Task A_worker_replica_killed_mid_ingestion_leaves_exactly_the_expected_chunks_and_a_completed_job()
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

        // SIGKILL, no shutdown: what a crashed or OOM-killed worker looks like to the broker. Its unacknowledged
        // messages go back to the queue, and the other replica takes them.
        var victim = stack.Instances("embedding-worker")[0];
        using (var process = victim.ServiceProcess())
        {
            Assert.Contains("RagPlatform.EmbeddingWorker", process.MainModule?.FileName ?? process.ProcessName, StringComparison.Ordinal);
            process.Kill();
            await process.WaitForExitAsync();
        }

        var atKill = await stack.GetJobAsync(job.JobId);
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

        // The replica comes back from the dashboard's Start command, as an operator would bring it back.
        await stack.WaitForStateAsync(victim.Id, KnownResourceStates.TerminalStates);
        await stack.StartAsync(victim.Id);
        await stack.WaitHealthyAsync(victim.Id);
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
                await stack.StopAsync("messaging");
            }

            var documents = Documents($"restart-{b}", perBatch);
            while (true)
            {
                using var response = await stack.Ingestion.PostAsJsonAsync("/v1/collections/dist-restart/documents", documents, DistributedApp.Json);
                if (response.IsSuccessStatusCode)
                {
                    jobs.Add((await response.Content.ReadFromJsonAsync<JobAccepted>(DistributedApp.Json))!.JobId);
                    break;
                }

                // While the broker is away the ingestion service says so (503) instead of accepting work it cannot queue.
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                refused++;
                Assert.True(DateTime.UtcNow < deadline, "ingestion never recovered");
                if (!restarted)
                {
                    await stack.StartAsync("messaging");
                    restarted = true;
                }
            }

            if (b == batches / 4 && !restarted)
            {
                await stack.StartAsync("messaging");
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
        Assert.NotEqual(0, await RedisKeysAsync());

        await stack.StopAsync("cache");
        for (var i = 0; i < 5; i++)
        {
            var answer = await stack.SearchAsync("dist-cache", $"문서 {10 + i}번 항목");
            Assert.False(answer.Cached);
            Assert.NotEmpty(answer.Results);
        }

        // Same port, empty (no persistence): anything in it now was written after it came back.
        await stack.StartAsync("cache");
        await stack.WaitHealthyAsync("cache");
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var probe = 0;
        while (await RedisKeysAsync() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "nothing was cached in Redis after it returned");
            await stack.SearchAsync("dist-cache", $"문서 {20 + probe++}번 다시");
            await Task.Delay(250);
        }
    }

    /// <summary>What each worker replica reports having embedded (its own /metrics, not the load-balancing proxy's).</summary>
    private async Task<double[]> EmbeddedByWorkersAsync()
    {
        var replicas = stack.Instances("embedding-worker");
        Assert.Equal(2, replicas.Count);
        var counts = new double[replicas.Count];
        for (var i = 0; i < replicas.Count; i++)
        {
            using var client = new HttpClient { BaseAddress = replicas[i].Url };
            var text = await client.GetStringAsync("/metrics");
            counts[i] = text.Split('\n')
                .Where(l => l.StartsWith("ragplatform_chunks_total{", StringComparison.Ordinal) && l.Contains("outcome=\"embedded\"", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }

        return counts;
    }

    /// <summary>Messages ready in a queue, 0 when the queue does not exist (yet).</summary>
    private async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await BrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    /// <summary>Publishes bytes as they are to a MassTransit endpoint's exchange (same name as its queue), persistent.</summary>
    private async Task PublishRawAsync(string endpoint, string contentType, byte[] body)
    {
        await using var connection = await BrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = contentType, Persistent = true, MessageId = Guid.NewGuid().ToString() };
        await channel.BasicPublishAsync(endpoint, "", mandatory: true, properties, body);
    }

    private async Task<IConnection> BrokerAsync() =>
        await new ConnectionFactory { Uri = new Uri((await stack.ConnectionStringAsync("messaging"))!) }.CreateConnectionAsync();

    private async Task<long> RedisKeysAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await stack.ConnectionStringAsync("cache"))! + ",allowAdmin=true");
        return await redis.GetServers().Single().DatabaseSizeAsync();
    }

    /// <summary>Distinct one-chunk Korean documents: n documents are exactly n chunks, none sharing text.</summary>
    [Fact]
    public async Task A_reindex_runs_through_the_workers_while_the_query_api_keeps_answering_then_switches()
    {
        const int count = 300;
        var ingest = await stack.WaitForJobAsync((await stack.PostDocumentsAsync("dist-reindex", Documents("reindex", count))).JobId);
        Assert.Equal("completed", ingest.State);

        using var response = await stack.Ingestion.PostAsJsonAsync("/v1/collections/dist-reindex/reindex",
            new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } }, DistributedApp.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<ReindexAccepted>(DistributedApp.Json))!;

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
