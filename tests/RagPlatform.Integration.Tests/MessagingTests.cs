using System.Net.Http.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Contracts.Messages;

namespace RagPlatform.Integration.Tests;

/// <summary>The standalone host with MassTransit's test harness observing its bus.</summary>
public sealed class HarnessPlatformFactory : PlatformFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddMassTransitTestHarness());
    }
}

public sealed class MessagingTests(HarnessPlatformFactory factory) : IClassFixture<HarnessPlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_redelivered_embed_message_changes_nothing()
    {
        var harness = factory.Services.GetRequiredService<ITestHarness>();
        var job = await _client.IngestAsync("redelivery", KoreanSamples.Documents());
        var before = await _client.StatsAsync("redelivery");
        var consumed = harness.Consumed.Select<EmbedDocuments>(m => m.Context.Message.JobId == job.JobId).First();

        await harness.Bus.Publish(consumed.Context.Message);
        // Polled rather than awaited with the harness's inactivity timeout, which a loaded machine can outlast.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (harness.Consumed.Select<EmbedDocuments>(m => m.Context.Message.JobId == job.JobId).Count() < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(2, harness.Consumed.Select<EmbedDocuments>(m => m.Context.Message.JobId == job.JobId).Count());

        var after = await _client.StatsAsync("redelivery");
        Assert.Equal(before.Chunks, after.Chunks);
        Assert.Equal(before.Documents, after.Documents);
        var search = await _client.SearchAsync("redelivery", new { query = "주택담보대출 금리", topK = 10 });
        Assert.Equal(search.Results.Count, search.Results.Select(r => r.ChunkId).Distinct().Count());
        var status = await _client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{job.JobId}", PlatformFactory.Json);
        Assert.Empty(status!.Errors);
        Assert.Equal(job with { Errors = [] }, status with { Errors = [] });
    }

    [Fact]
    public async Task A_message_that_exhausts_its_retries_fails_its_documents_instead_of_hanging_the_job()
    {
        var harness = factory.Services.GetRequiredService<ITestHarness>();
        using var put = await _client.PutAsJsonAsync("/v1/collections/provider-down", new { embedding = new { provider = "faulty", settings = new { ActualDimensions = "64" } } });
        Assert.True(put.IsSuccessStatusCode);

        var job = await _client.IngestAsync("provider-down", new[] { new { id = "doc", text = "이 문서는 #throw# 때문에 실패한다." } });

        Assert.Equal(JobStates.Failed, job.State);
        Assert.Contains("unreachable", job.Errors.Single().Error, StringComparison.Ordinal);
        Assert.True(await harness.Published.Any<Fault<EmbedDocuments>>());
        Assert.Equal(0, (await _client.StatsAsync("provider-down")).Pending);

        // Nothing was left half-done: posting the same document again queues it again.
        var retry = await _client.IngestAsync("provider-down", new[] { new { id = "doc", text = "이 문서는 #throw# 때문에 실패한다." } });
        Assert.Equal(0, retry.Unchanged);
    }
}
