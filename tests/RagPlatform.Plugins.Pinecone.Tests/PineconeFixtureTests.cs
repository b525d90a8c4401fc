using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Pinecone.Tests;

/// <summary>
/// Contract tests: each operation must send exactly the documented requests of Fixtures/*.json (shapes from
/// Pinecone's API reference, version 2025-10, with the Api-Key and X-Pinecone-API-Version headers) and read the
/// documented answers right. Replayed on a loopback server, not the real service.
/// </summary>
public sealed class PineconeFixtureTests
{
    private const string Key = "pcsk_fixture_9d2e";
    private const string PointId = "0b5e8f3a-6c1d-8a2e-9f4b-7d3c2e1a0f9e";
    private static readonly ModelFingerprint Fingerprint = ModelFingerprint.Parse("hashing/korean-ngram-v1@1;dim=4;pool=none;norm=l2");

    [Fact]
    public async Task EnsureCollection_New_CreatesServerlessIndexWaitsUntilReadyAndRegistersTheCollection()
    {
        await ReplayAsync("ensure-collection.json", backend =>
            backend.EnsureCollectionAsync(new VectorCollectionSpec("docs", 4, DistanceMetric.Cosine, Fingerprint), CancellationToken.None));
    }

    [Fact]
    public async Task Upsert_SendsRecordsWithFlatMetadataIntoTheCollectionsNamespace()
    {
        await ReplayAsync("upsert.json", backend =>
            backend.UpsertAsync("docs", [new VectorPoint(PointId, [0.5f, -0.25f, 0.125f, 1f], ManualPayload(0))], CancellationToken.None));
    }

    [Fact]
    public async Task Search_WithTagAndMetadataFilter_SendsAndOfInConditionsAndReadsMatches()
    {
        IReadOnlyList<VectorSearchHit> hits = [];
        await ReplayAsync("query-with-filter.json", async backend =>
        {
            var filter = new VectorFilter(["guide"], new Dictionary<string, JsonElement> { ["lang"] = JsonElement.Parse("\"ko\"") });
            hits = await backend.SearchAsync("docs", new VectorQuery([1, 0, 0, 0], 2, filter), CancellationToken.None);
        });

        Assert.Equal([PointId, "pt-readme-2"], hits.Select(h => h.Id));
        Assert.Equal([0.87f, 0.42f], hits.Select(h => h.Score));
        Assert.Equal(2024, hits[0].Payload.Metadata["year"].GetInt32());
        Assert.Equal("설치 안내", hits[0].Payload.Title);
        Assert.Null(hits[1].Payload.Title);
        Assert.Empty(hits[1].Payload.Metadata);
    }

    [Fact]
    public async Task DeleteByDocument_FindsIdsByFilteredQueryDeletesByIdAndCountsEachOnce()
    {
        long removed = 0;
        await ReplayAsync("delete-by-document.json", async backend => removed = await backend.DeleteByDocumentAsync("docs", "manual.pdf", CancellationToken.None));

        Assert.Equal(2, removed);
    }

    [Fact]
    public async Task Export_ListsIdsPageByPageAndFetchesEachPage()
    {
        var exported = new List<VectorPoint>();
        await ReplayAsync("export-list-fetch.json", async backend =>
        {
            await foreach (var point in backend.ExportAsync("docs", CancellationToken.None))
            {
                exported.Add(point);
            }
        });

        Assert.Equal([0, 1, 2], exported.Select(p => p.Payload.Ordinal).Order());
        Assert.Equal([0.5f, -0.25f, 0.125f, 1f], exported.Single(p => p.Id == PointId).Vector);
    }

    [Fact]
    public async Task Count_ReadsTheNamespacesVectorCountFromIndexStats()
    {
        long count = 0;
        await ReplayAsync("count.json", async backend => count = await backend.CountAsync("docs", null, CancellationToken.None));

        Assert.Equal(42, count);
    }

    private static PointPayload ManualPayload(int ordinal) => new(
        "manual.pdf",
        "설치 안내",
        "검색 증강 생성 설치 방법",
        ["guide", "ko"],
        new Dictionary<string, JsonElement> { ["lang"] = JsonElement.Parse("\"ko\""), ["year"] = JsonElement.Parse("2024") },
        "sha256:ab12",
        ordinal);

    private static async Task ReplayAsync(string fixture, Func<PineconeVectorBackend, Task> operation)
    {
        FixtureReplay? replay = null;
        await using var server = await LoopbackHttpServer.StartAsync(request => replay!.Handle(request));
        replay = new FixtureReplay(
            Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture),
            new Dictionary<string, string> { ["key"] = Key, ["authority"] = server.BaseAddress.Authority });
        var options = PineconeContractServer.Options();
        options.MaxAttempts = 1;
        options.ListPageSize = 2;
        await using (var backend = new PineconeVectorBackend(options, ServiceConnectionString.Parse($"Endpoint={server.BaseAddress};Key={Key}"), NullLogger.Instance, null, new RagPlatform.Tests.Shared.RecordingTimeProvider()))
        {
            await operation(backend);
        }

        replay.AssertComplete();
    }
}
