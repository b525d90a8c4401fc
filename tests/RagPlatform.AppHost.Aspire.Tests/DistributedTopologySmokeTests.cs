using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using RagPlatform.Contracts.Http;

namespace RagPlatform.AppHostSmokeTests;

public sealed class DistributedTopologySmokeTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Documents_ingested_through_the_ingestion_service_are_found_through_the_query_api()
    {
        using var timeout = new CancellationTokenSource(StartTimeout + JobTimeout);
        var cancellationToken = timeout.Token;

        // The secret parameters, as user secrets would give them; fresh for every run.
        string[] args =
        [
            "--Parameters:rabbitmq-password=" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            "--Parameters:postgres-password=" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
        ];
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.RagPlatform_AppHost>(args, cancellationToken);
        await using var app = await appHost.BuildAsync(cancellationToken);
        await app.StartAsync(cancellationToken);

        foreach (var service in new[] { "ingestion", "embedding-worker", "query" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(service, cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        }

        using var ingestion = app.CreateHttpClient("ingestion");
        using var query = app.CreateHttpClient("query");

        DocumentInput[] documents =
        [
            new("bm-1", "건강검진 안내", "위내시경 검사 전날 저녁 9시 이후에는 금식해야 합니다.", ["health"], null),
            new("bm-2", "게임 위키", "드래곤 레이드는 매주 목요일 오전 6시에 초기화됩니다.", ["game"], null),
            new("bm-3", "AI tools", "Vector databases store embeddings for similarity search.", ["tools"], null),
        ];
        using var submitted = await ingestion.PostAsJsonAsync("/v1/collections/smoke/documents", documents, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var accepted = await submitted.Content.ReadFromJsonAsync<JobAccepted>(cancellationToken);

        // The job completes once the workers (over RabbitMQ) have embedded and written every chunk.
        JobStatus? job = null;
        using (var jobTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            jobTimeout.CancelAfter(JobTimeout);
            while (job is null || !JobStates.IsFinal(job.State))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), jobTimeout.Token);
                job = await ingestion.GetFromJsonAsync<JobStatus>($"/v1/jobs/{accepted!.JobId}", jobTimeout.Token);
            }
        }

        Assert.Equal(JobStates.Completed, job.State);

        using var searched = await query.PostAsJsonAsync(
            "/v1/collections/smoke/search", new SearchRequest("위내시경 금식", 3, SearchModes.Hybrid, null, null), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, searched.StatusCode);
        var results = await searched.Content.ReadFromJsonAsync<SearchResponse>(cancellationToken);
        Assert.Equal("bm-1", results!.Results[0].DocumentId);
    }
}
