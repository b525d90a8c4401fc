using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Storage;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// Blue/green re-index (issue 5 item 7): switching a collection's model builds a new version beside the old one
/// while searches keep answering from the old one, then switches and drops the old one. The standalone host runs
/// everything in process (in-memory bus, embedded metadata store and vectors).
/// </summary>
public sealed class BlueGreenReindexTests(BlueGreenReindexTests.ReindexFactory factory) : IClassFixture<BlueGreenReindexTests.ReindexFactory>
{
    public sealed class ReindexFactory : PlatformFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // Every search reaches the backend (no cached answers hide a missing version); retired versions go after 1 s.
            builder.UseSetting("RagPlatform:Query:ResultCacheSeconds", "0");
            builder.UseSetting("RagPlatform:VectorStore:RetiredVersionGraceSeconds", "1");
        }
    }

    private const int DocumentCount = 40;
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Reindex_builds_the_new_version_while_searches_answer_from_the_old_one_then_switches_and_drops_it()
    {
        const string name = "bluegreen-gated";
        var gate = Path.Combine(factory.DataDirectory, "gate-" + Guid.NewGuid().ToString("N"));
        await PutAsync(name, new { embedding = new { provider = "hashing" } });
        await IngestAllAsync(name);
        var before = await _client.StatsAsync(name);

        // Model B holds every call until the gate file exists: the re-index is provably in flight while we search.
        var accepted = await StartReindexAsync(name, new
        {
            embedding = new { provider = "faulty", settings = new Dictionary<string, string> { ["Dimensions"] = "64", ["ActualDimensions"] = "64", ["WaitForFile"] = gate } },
        });
        Assert.Equal((2, DocumentCount), (accepted.TargetVersion, accepted.Total));

        var during = await _client.StatsAsync(name);
        Assert.Equal((1, name, before.ModelFingerprint), (during.ActiveVersion, during.VectorCollection, during.ModelFingerprint));
        Assert.Equal(ReindexStates.Running, during.Reindex!.State);
        Assert.Equal(accepted.JobId, during.Reindex.JobId);
        Assert.StartsWith("faulty/", during.Reindex.ModelFingerprint, StringComparison.Ordinal);
        Assert.True(during.Reindex.Processed < during.Reindex.Total);

        for (var i = 0; i < 20; i++)
        {
            await AssertSearchAnswersAsync(name, i);
        }

        // Ingested during the re-index: reaches the active version now and the new one too (dual write).
        using var late = await _client.PostAsJsonAsync($"/v1/collections/{name}/documents",
            new[] { new { id = "late", title = "늦게 온 문서", text = "재색인 중에 들어온 문서도 새 버전에 있어야 한다. 공통 주제 검색." } });
        Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
        var lateJob = (await late.Content.ReadFromJsonAsync<JobAccepted>(PlatformFactory.Json))!;

        await File.WriteAllTextAsync(gate, "open");
        var job = await SearchUntilReindexEndsAsync(name, accepted.JobId);

        Assert.Equal((JobStates.Completed, DocumentCount, 0), (job.State, job.Succeeded, job.Failed));
        Assert.Equal(JobStates.Completed, (await _client.WaitForJobAsync(lateJob.JobId)).State);

        var after = await _client.StatsAsync(name);
        Assert.Equal(2, after.ActiveVersion);
        Assert.Equal(name + "__v2", after.VectorCollection);
        Assert.Equal(during.Reindex.ModelFingerprint, after.ModelFingerprint);
        Assert.Equal("faulty", after.Settings.Embedding.Provider);
        Assert.Null(after.Reindex);
        Assert.True(after.Version > before.Version);
        Assert.Equal(before.Documents + 1, after.Documents);

        var backend = await factory.Services.GetRequiredService<PluginHost>().GetVectorBackendAsync("embedded", default);
        Assert.Equal(after.Chunks, await backend.CountAsync(after.VectorCollection!, null, CancellationToken.None));
        Assert.Equal(64, (await backend.GetCollectionAsync(after.VectorCollection!, CancellationToken.None))!.Dimensions);

        // The old version stays for the grace period (searches that resolved it still finish), then goes.
        for (var attempt = 0; await backend.GetCollectionAsync(name, CancellationToken.None) is not null; attempt++)
        {
            Assert.True(attempt < 300, "the retired version was not dropped");
            await AssertSearchAnswersAsync(name, attempt);
            await Task.Delay(100);
        }

        var found = await _client.SearchAsync(name, new { query = "재색인 중에 들어온 문서", topK = 3, mode = "lexical" });
        Assert.Equal("late", found.Results[0].DocumentId);
        Assert.NotEmpty((await _client.SearchAsync(name, new { query = "공통 주제", topK = 5, mode = "dense" })).Results);
    }

    [Fact]
    public async Task Reindex_to_another_hashing_model_ends_with_its_fingerprint_equal_counts_and_the_old_storage_gone()
    {
        const string name = "bluegreen-hashing";
        await PutAsync(name, new { embedding = new { provider = "hashing" } });
        await IngestAllAsync(name);
        var before = await _client.StatsAsync(name);

        var accepted = await StartReindexAsync(name, new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } });
        var job = await SearchUntilReindexEndsAsync(name, accepted.JobId);

        var after = await _client.StatsAsync(name);
        Assert.Equal(JobStates.Completed, job.State);
        Assert.Contains("dim=256;", after.ModelFingerprint, StringComparison.Ordinal);
        Assert.NotEqual(before.ModelFingerprint, after.ModelFingerprint);
        Assert.Equal((before.Documents, before.Chunks), (after.Documents, after.Chunks));
        var backend = await factory.Services.GetRequiredService<PluginHost>().GetVectorBackendAsync("embedded", default);
        Assert.Equal(after.Chunks, await backend.CountAsync(after.VectorCollection!, null, CancellationToken.None));
        for (var attempt = 0; await backend.GetCollectionAsync(name, CancellationToken.None) is not null; attempt++)
        {
            Assert.True(attempt < 300, "the retired version was not dropped");
            await Task.Delay(100);
        }

        // The next re-index builds version 3 from version 2; an unchanged model is refused.
        using var same = await _client.PostAsJsonAsync($"/v1/collections/{name}/reindex", new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } });
        Assert.Equal(HttpStatusCode.Conflict, same.StatusCode);
        var third = await StartReindexAsync(name, new { embedding = new { provider = "hashing", settings = new { Dimensions = "512" } } });
        Assert.Equal(3, third.TargetVersion);
        Assert.Equal(JobStates.Completed, (await SearchUntilReindexEndsAsync(name, third.JobId)).State);
        Assert.Equal(name + "__v3", (await _client.StatsAsync(name)).VectorCollection);
        await AssertSearchAnswersAsync(name, 0);
    }

    [Fact]
    public async Task A_reindex_whose_model_is_unavailable_fails_and_leaves_the_old_version_serving()
    {
        const string name = "bluegreen-failing";
        await PutAsync(name, new { embedding = new { provider = "hashing" } });
        await IngestAllAsync(name);
        var before = await _client.StatsAsync(name);

        // Every text contains a space, so every call of model B throws: the provider is down.
        var accepted = await StartReindexAsync(name, new
        {
            embedding = new { provider = "faulty", settings = new Dictionary<string, string> { ["Dimensions"] = "64", ["ActualDimensions"] = "64", ["ThrowOn"] = " " } },
        });
        var job = await SearchUntilReindexEndsAsync(name, accepted.JobId);

        Assert.Equal(JobStates.Failed, job.State);
        var after = await _client.StatsAsync(name);
        Assert.Equal((1, name, before.ModelFingerprint, "hashing"), (after.ActiveVersion, after.VectorCollection, after.ModelFingerprint, after.Settings.Embedding.Provider));
        Assert.Equal(ReindexStates.Failed, after.Reindex!.State);
        Assert.Contains("could not be re-embedded", after.Reindex.Error, StringComparison.Ordinal);
        var backend = await factory.Services.GetRequiredService<PluginHost>().GetVectorBackendAsync("embedded", default);
        // The version being built is dropped right after the re-index is marked failed.
        for (var attempt = 0; await backend.GetCollectionAsync(name + "__v2", CancellationToken.None) is not null; attempt++)
        {
            Assert.True(attempt < 300, "the failed version was not dropped");
            await Task.Delay(20);
        }

        Assert.Equal(before.Chunks, await backend.CountAsync(name, null, CancellationToken.None));
        await AssertSearchAnswersAsync(name, 0);

        // Ingestion goes on against the active version, and a later re-index can be started again.
        await _client.IngestAsync(name, new[] { new { id = "after-failure", text = "실패한 재색인 뒤에도 수집은 계속된다. 공통 주제." } });
        var retry = await StartReindexAsync(name, new { embedding = new { provider = "hashing", settings = new { Dimensions = "128" } } });
        Assert.Equal(3, retry.TargetVersion);
        Assert.Equal(JobStates.Completed, (await SearchUntilReindexEndsAsync(name, retry.JobId)).State);
        var switched = await _client.StatsAsync(name);
        Assert.Equal((3, before.Documents + 1), (switched.ActiveVersion, switched.Documents));
    }

    [Fact]
    public async Task Reindex_requests_are_validated()
    {
        const string name = "bluegreen-validation";
        await PutAsync(name, new { embedding = new { provider = "hashing" } });

        using var missing = await _client.PostAsJsonAsync("/v1/collections/no-such-collection/reindex", new { embedding = new { provider = "hashing" } });
        using var unknown = await _client.PostAsJsonAsync($"/v1/collections/{name}/reindex", new { embedding = new { provider = "no-such-provider" } });
        using var backend = await _client.PostAsJsonAsync($"/v1/collections/{name}/reindex", new { vectorBackend = "no-such-backend" });
        using var reserved = await _client.PutAsJsonAsync("/v1/collections/docs__v2", new { });

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.True((await unknown.ProblemAsync()).GetProperty("errors").TryGetProperty("embedding.provider", out _));
        Assert.Equal(HttpStatusCode.BadRequest, backend.StatusCode);
        Assert.True((await backend.ProblemAsync()).GetProperty("errors").TryGetProperty("vectorBackend", out _));
        Assert.Equal(HttpStatusCode.BadRequest, reserved.StatusCode);
    }

    /// <summary>
    /// Searches (each must answer, with results) until the collection shows the re-index ended: switched (nothing pending)
    /// or failed. The job counts its last document a moment before the switch, so the collection is what is waited on.
    /// </summary>
    private async Task<JobStatus> SearchUntilReindexEndsAsync(string name, Guid jobId)
    {
        for (var searches = 0; ; searches++)
        {
            await AssertSearchAnswersAsync(name, searches);
            var stats = await _client.StatsAsync(name);
            if (stats.Reindex is null || stats.Reindex.JobId != jobId || stats.Reindex.State == ReindexStates.Failed)
            {
                return (await _client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{jobId}", PlatformFactory.Json))!;
            }

            Assert.True(searches < 5_000, $"re-index {jobId} did not end: {stats.Reindex}");
        }
    }

    private async Task AssertSearchAnswersAsync(string name, int i)
    {
        var mode = (i % 3) switch { 0 => "hybrid", 1 => "dense", _ => "lexical" };
        using var response = await _client.PostAsJsonAsync($"/v1/collections/{name}/search", new { query = "공통 주제 검색", topK = 5, mode });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"search {i} ({mode}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = (await response.Content.ReadFromJsonAsync<SearchResponse>(PlatformFactory.Json))!;
        Assert.True(body.Results.Count > 0, $"search {i} ({mode}) answered no results");
    }

    private async Task PutAsync(string name, object settings)
    {
        using var response = await _client.PutAsJsonAsync($"/v1/collections/{name}", settings);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task IngestAllAsync(string name)
    {
        var documents = Enumerable.Range(0, DocumentCount).Select(i => new
        {
            id = $"doc-{i:D3}",
            title = $"문서 {i}",
            text = $"블루그린 재색인 시험 문서 {i}번입니다. 공통 주제는 검색 품질입니다. 항목 {i}의 설명은 금리와 예금과 대출에 관한 것입니다.",
            tags = new[] { i % 2 == 0 ? "even" : "odd" },
        }).ToArray();
        var job = await _client.IngestAsync(name, documents);
        Assert.Equal(JobStates.Completed, job.State);
    }

    private async Task<ReindexAccepted> StartReindexAsync(string name, object request)
    {
        using var response = await _client.PostAsJsonAsync($"/v1/collections/{name}/reindex", request);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<ReindexAccepted>(PlatformFactory.Json))!;
        Assert.Equal($"/v1/jobs/{accepted.JobId}", response.Headers.Location?.ToString());
        return accepted;
    }
}
