using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// Contract tests: each operation must send exactly the documented request bodies of Fixtures/*.json (shapes from
/// Qdrant's OpenAPI spec) and read the documented answers right. Replayed on a loopback server, not a real Qdrant.
/// </summary>
public sealed class QdrantFixtureTests
{
    private const string Key = "fixture-key-7c1d";
    private const string PointId = "0b5e8f3a-6c1d-8a2e-9f4b-7d3c2e1a0f9e";
    private static readonly ModelFingerprint Fingerprint = ModelFingerprint.Parse("hashing/korean-ngram-v1@1;dim=4;pool=none;norm=l2");

    [Fact]
    public async Task EnsureCollection_New_CreatesVectorsHnswMetadataThenKeywordIndexes()
    {
        await ReplayAsync("ensure-collection.json", backend =>
            backend.EnsureCollectionAsync(new VectorCollectionSpec("docs", 4, DistanceMetric.Cosine, Fingerprint), CancellationToken.None));
    }

    [Fact]
    public async Task Upsert_SendsPointsListWithUuidVectorAndPayload()
    {
        await ReplayAsync("upsert.json", backend =>
            backend.UpsertAsync("docs", [new VectorPoint(PointId, [0.5f, -0.25f, 0.125f, 1f], ManualPayload(0))], CancellationToken.None));
    }

    [Fact]
    public async Task Search_WithTagAndMetadataFilter_SendsMustConditionsAndReadsScoredPoints()
    {
        IReadOnlyList<VectorSearchHit> hits = [];
        await ReplayAsync("query-with-filter.json", async backend =>
        {
            var filter = new VectorFilter(["guide"], new Dictionary<string, JsonElement> { ["lang"] = JsonElement.Parse("\"ko\"") });
            hits = await backend.SearchAsync("docs", new VectorQuery([1, 0, 0, 0], 2, filter), CancellationToken.None);
        });

        Assert.Equal([PointId, "pt-readme-2"], hits.Select(h => h.Id));
        Assert.Equal([0.87f, 0.42f], hits.Select(h => h.Score));
        Assert.Equal("manual.pdf", hits[0].Payload.DocumentId);
        Assert.Equal(["guide", "ko"], hits[0].Payload.Tags);
        Assert.Equal(2024, hits[0].Payload.Metadata["year"].GetInt32());
        Assert.Null(hits[1].Payload.Title);
        Assert.Equal(3, hits[1].Payload.Ordinal);
    }

    [Fact]
    public async Task DeleteByDocument_CountsExactlyThenDeletesByFilter()
    {
        long removed = 0;
        await ReplayAsync("delete-by-document.json", async backend => removed = await backend.DeleteByDocumentAsync("docs", "manual.pdf", CancellationToken.None));

        Assert.Equal(3, removed);
    }

    [Fact]
    public async Task Export_FollowsNextPageOffsetUntilNull()
    {
        var exported = new List<VectorPoint>();
        await ReplayAsync(
            "scroll-export.json",
            async backend =>
            {
                await foreach (var point in backend.ExportAsync("docs", CancellationToken.None))
                {
                    exported.Add(point);
                }
            },
            new QdrantOptions { ScrollPageSize = 2 });

        Assert.Equal([0, 1, 2], exported.Select(p => p.Payload.Ordinal));
        Assert.Equal([0.5f, -0.25f, 0.125f, 1f], exported[0].Vector);
    }

    [Fact]
    public async Task Retrieve_AsksForPayloadAndVectorAndReturnsOnlyFoundPoints()
    {
        IReadOnlyList<VectorPoint> found = [];
        await ReplayAsync("retrieve.json", async backend =>
            found = await backend.RetrieveAsync("docs", [PointId, "a3f5c1f2-4f0e-8b7a-8d61-2b5a3f0c9e11"], CancellationToken.None));

        var point = Assert.Single(found);
        Assert.Equal(PointId, point.Id);
        Assert.Equal("검색 증강 생성 설치 방법", point.Payload.Text);
    }

    [Fact]
    public async Task SwitchAlias_DeletesAndCreatesInOneAtomicActionsList()
    {
        await ReplayAsync("switch-alias.json", backend => backend.SwitchAliasAsync("docs", "docs_v2", CancellationToken.None));
    }

    private static PointPayload ManualPayload(int ordinal) => new(
        "manual.pdf",
        "설치 안내",
        "검색 증강 생성 설치 방법",
        ["guide", "ko"],
        new Dictionary<string, JsonElement> { ["lang"] = JsonElement.Parse("\"ko\""), ["year"] = JsonElement.Parse("2024") },
        "sha256:ab12",
        ordinal);

    private static async Task ReplayAsync(string fixture, Func<QdrantVectorBackend, Task> operation, QdrantOptions? options = null)
    {
        var replay = new FixtureReplay(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), new Dictionary<string, string> { ["key"] = Key });
        await using var server = await LoopbackHttpServer.StartAsync(replay.Handle);
        options ??= new QdrantOptions();
        options.MaxAttempts = 1;
        await using (var backend = new QdrantVectorBackend(options, ServiceConnectionString.Parse($"Endpoint={server.BaseAddress};Key={Key}"), NullLogger.Instance, null, null))
        {
            await operation(backend);
        }

        replay.AssertComplete();
    }
}
