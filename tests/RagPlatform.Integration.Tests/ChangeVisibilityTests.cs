using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// What a caller sees while a change removes chunks: the platform writes the rows first and deletes the points after
/// (so a crash never leaves a row whose point is gone). These tests hold the lexical index's delete at a gate, search
/// in that window (which caches the result), then open it: the job must not read done before the old text is gone,
/// and nothing cached in the window may be served afterwards.
/// </summary>
public sealed class ChangeVisibilityTests(ChangeVisibilityTests.GatedPlatformFactory factory) : IClassFixture<ChangeVisibilityTests.GatedPlatformFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_change_that_removes_chunks_finishes_its_job_only_once_they_are_gone_and_nothing_cached_meanwhile_is_served()
    {
        await _client.IngestAsync("changing", KoreanSamples.Documents());
        var gate = factory.Lexical.Arm();

        using var posted = await _client.PostAsJsonAsync("/v1/collections/changing/documents",
            new[] { new { id = "football", title = "야구 소식", text = "야구 경기가 비 때문에 취소되었다.", tags = new[] { "sports" } } });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var jobId = (await posted.Content.ReadFromJsonAsync<JobAccepted>(PlatformFactory.Json))!.JobId;
        await gate.Entered.Task.WaitAsync(Patience);

        var midway = (await _client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{jobId}", PlatformFactory.Json))!;
        var meanwhile = await _client.SearchAsync("changing", new { query = "축구", topK = 5, mode = "lexical" });
        gate.Open();
        var done = await _client.WaitForJobAsync(jobId);
        var after = await _client.SearchAsync("changing", new { query = "축구", topK = 5, mode = "lexical" });

        Assert.False(JobStates.IsFinal(midway.State), $"the job read {midway.State} while its old chunk was still indexed");
        Assert.Contains(meanwhile.Results, r => r.DocumentId == "football");
        Assert.Equal((JobStates.Completed, 1), (done.State, done.Succeeded));
        Assert.Empty(after.Results);
    }

    [Fact]
    public async Task A_deleted_document_is_not_served_from_a_search_cached_while_its_points_were_going()
    {
        await _client.IngestAsync("deleting", KoreanSamples.Documents());
        var gate = factory.Lexical.Arm();

        var deleting = _client.DeleteAsync("/v1/collections/deleting/documents/football");
        await gate.Entered.Task.WaitAsync(Patience);
        var meanwhile = await _client.SearchAsync("deleting", new { query = "축구", topK = 5, mode = "lexical" });
        gate.Open();
        using var deleted = await deleting;
        var after = await _client.SearchAsync("deleting", new { query = "축구", topK = 5, mode = "lexical" });

        Assert.Contains(meanwhile.Results, r => r.DocumentId == "football");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(after.Results);
    }

    [Fact]
    public async Task A_collection_deleted_and_created_again_does_not_serve_the_old_ones_cached_results()
    {
        await _client.IngestAsync("reborn", KoreanSamples.Documents());
        var first = await _client.SearchAsync("reborn", new { query = "축구 경기", topK = 1, mode = "lexical" });
        var firstVersion = (await _client.StatsAsync("reborn")).Version;
        using (var dropped = await _client.DeleteAsync("/v1/collections/reborn"))
        {
            Assert.Equal(HttpStatusCode.NoContent, dropped.StatusCode);
        }

        // The same shape of job, so the new collection reaches the same version number as the old one did.
        var documents = KoreanSamples.Documents();
        documents[1] = new { id = "football", title = "축구 대표팀", text = "축구 대표팀 명단이 오늘 발표되었다. 경기는 다음 달에 열린다.", tags = new[] { "sports" } };
        await _client.IngestAsync("reborn", documents);
        var second = await _client.SearchAsync("reborn", new { query = "축구 경기", topK = 1, mode = "lexical" });

        Assert.Equal(firstVersion, (await _client.StatsAsync("reborn")).Version);
        Assert.StartsWith("어제 열린 축구 경기", first.Results[0].Text);
        Assert.False(second.Cached);
        Assert.StartsWith("축구 대표팀 명단", second.Results[0].Text);
    }

    /// <summary>The standalone host with its lexical index behind a <see cref="GatedLexicalIndex"/>.</summary>
    public sealed class GatedPlatformFactory : PlatformFactory
    {
        public GatedLexicalIndex Lexical => Services.GetRequiredService<GatedLexicalIndex>();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                var embedded = services.Last(d => d.ServiceType == typeof(ILexicalIndex));
                services.Remove(embedded);
                services.AddSingleton(sp => new GatedLexicalIndex((ILexicalIndex)embedded.ImplementationFactory!(sp)));
                services.AddSingleton<ILexicalIndex>(sp => sp.GetRequiredService<GatedLexicalIndex>());
            });
        }
    }

    /// <summary>Passes everything through, except that the next delete after <see cref="Arm"/> waits until the gate opens.</summary>
    public sealed class GatedLexicalIndex(ILexicalIndex inner) : ILexicalIndex, IDisposable
    {
        private Gate? _armed;

        public Gate Arm()
        {
            var gate = new Gate();
            Assert.Null(Interlocked.Exchange(ref _armed, gate));
            return gate;
        }

        public Task UpsertAsync(string collection, IReadOnlyList<LexicalChunk> chunks, CancellationToken cancellationToken) =>
            inner.UpsertAsync(collection, chunks, cancellationToken);

        public async Task DeleteAsync(string collection, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
        {
            await PassAsync();
            await inner.DeleteAsync(collection, ids, cancellationToken);
        }

        public async Task DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
        {
            await PassAsync();
            await inner.DeleteByDocumentAsync(collection, documentId, cancellationToken);
        }

        public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken) =>
            inner.DeleteCollectionAsync(collection, cancellationToken);

        public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(
            string collection, string query, int topK, VectorFilter? filter, CancellationToken cancellationToken) =>
            inner.SearchAsync(collection, query, topK, filter, cancellationToken);

        public void Dispose() => (inner as IDisposable)?.Dispose();

        private Task PassAsync()
        {
            if (Interlocked.Exchange(ref _armed, null) is not { } gate)
            {
                return Task.CompletedTask;
            }

            gate.Entered.TrySetResult();
            return gate.Opened.Task.WaitAsync(Patience);
        }

        public sealed class Gate
        {
            public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public void Open() => Opened.TrySetResult();
        }
    }
}
