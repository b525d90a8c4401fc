using System.Net;
using System.Reflection;
using System.Text.Json;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>Retries, authentication, secrets and batching, against our Qdrant emulator on loopback.</summary>
public sealed class QdrantBehaviourTests : IAsyncLifetime
{
    private static readonly ModelFingerprint Fingerprint = ModelFingerprint.Parse("test/model@1;dim=8;pool=mean;norm=l2");
    private QdrantContractServer _server = null!;

    public async Task InitializeAsync() => _server = await QdrantContractServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Request_After503s_IsRetriedWithBackoffAndSucceeds()
    {
        await using var backend = _server.CreateBackend();
        _server.Server.EnqueueFault(new CannedResponse(503, "{\"status\":{\"error\":\"Service Unavailable\"}}"));
        _server.Server.EnqueueFault(new CannedResponse(503, "{\"status\":{\"error\":\"Service Unavailable\"}}"));

        await backend.EnsureCollectionAsync(Spec("retry"), CancellationToken.None);

        Assert.NotNull(await backend.GetCollectionAsync("retry", CancellationToken.None));
        Assert.Equal(2, _server.Delays.Count);
        Assert.True(_server.Delays[1] >= _server.Delays[0] / 2, "Backoff grows (with jitter).");
    }

    [Fact]
    public async Task Request_After429_WaitsWhatRetryAfterSays()
    {
        await using var backend = _server.CreateBackend();
        _server.Server.EnqueueFault(new CannedResponse(429, "{\"status\":{\"error\":\"Too many requests\"}}", new Dictionary<string, string> { ["Retry-After"] = "3" }));

        Assert.Null(await backend.GetCollectionAsync("absent", CancellationToken.None));

        Assert.Equal([TimeSpan.FromSeconds(3)], _server.Delays);
    }

    [Fact]
    public async Task Request_WhenEveryAttemptFails_ThrowsWithQdrantsStatusAndTextButNotTheKey()
    {
        var logger = new RecordingLogger();
        await using var backend = _server.CreateBackend(new QdrantOptions { MaxAttempts = 3 }, logger);
        for (var i = 0; i < 3; i++)
        {
            _server.Server.EnqueueFault(new CannedResponse(500, "{\"status\":{\"error\":\"Service internal error: disk full\"}}"));
        }

        var error = await Assert.ThrowsAsync<RemoteServiceException>(() => backend.GetCollectionAsync("x", CancellationToken.None));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Contains("disk full", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(QdrantContractServer.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, logger.Lines.Count);
        Assert.All(logger.Lines, line => Assert.DoesNotContain(QdrantContractServer.ApiKey, line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryRequest_CarriesTheApiKeyHeader_AndAWrongKeyGets401WithoutEchoingIt()
    {
        await using (var backend = _server.CreateBackend())
        {
            await backend.EnsureCollectionAsync(Spec("auth"), CancellationToken.None);
            await backend.UpsertAsync("auth", Points(3), CancellationToken.None);
            await backend.SearchAsync("auth", new VectorQuery(Points(1)[0].Vector, 2), CancellationToken.None);
        }

        Assert.All(_server.Server.Requests, r => Assert.Equal(QdrantContractServer.ApiKey, r.Header("api-key")));

        const string wrongKey = "wrong-key-51a0";
        await using var intruder = new QdrantVectorBackend(
            new QdrantOptions { MaxAttempts = 1 },
            ServiceConnectionString.Parse($"Endpoint={_server.Server.BaseAddress};Key={wrongKey}"),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            null,
            null);
        var error = await Assert.ThrowsAsync<RemoteServiceException>(() => intruder.CountAsync("auth", null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.DoesNotContain(wrongKey, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_LargerThanTheRequestLimit_IsSplitIntoRequestsUnderIt()
    {
        const long limit = 96 * 1024;
        _server.Emulator.MaxRequestBytes = limit;
        await using var backend = _server.CreateBackend(new QdrantOptions { MaxRequestBytes = limit, MaxBatchPoints = 10_000 });
        await backend.EnsureCollectionAsync(Spec("split"), CancellationToken.None);
        var points = Points(400, text: new string('가', 300));
        _server.Server.ClearRequests();

        await backend.UpsertAsync("split", points, CancellationToken.None);

        var upserts = _server.Server.Requests.Where(r => r.Method == "PUT" && r.Path.EndsWith("/points", StringComparison.Ordinal)).ToList();
        Assert.True(upserts.Count > 1, $"Expected several requests, got {upserts.Count}.");
        Assert.All(upserts, r => Assert.True(r.Body.Length <= limit, $"A request of {r.Body.Length} bytes exceeds {limit}."));
        Assert.Equal(400, upserts.Sum(r => r.Json().GetProperty("points").GetArrayLength()));
        Assert.Equal(400, await backend.CountAsync("split", null, CancellationToken.None));
    }

    [Fact]
    public async Task Upsert_WithOneBadVector_WritesNothing()
    {
        await using var backend = _server.CreateBackend(new QdrantOptions { MaxBatchPoints = 2 });
        await backend.EnsureCollectionAsync(Spec("bad"), CancellationToken.None);
        var points = Points(5);
        points[4] = points[4] with { Vector = [1, 2, 3] };

        await Assert.ThrowsAsync<InvalidVectorException>(() => backend.UpsertAsync("bad", points, CancellationToken.None));

        Assert.Equal(0, await backend.CountAsync("bad", null, CancellationToken.None));
    }

    [Fact]
    public async Task Export_ScrollsEveryPageExactlyOnce()
    {
        await using var backend = _server.CreateBackend(new QdrantOptions { ScrollPageSize = 10 });
        await backend.EnsureCollectionAsync(Spec("scroll"), CancellationToken.None);
        await backend.UpsertAsync("scroll", Points(35), CancellationToken.None);
        _server.Server.ClearRequests();

        var exported = new List<VectorPoint>();
        await foreach (var point in backend.ExportAsync("scroll", CancellationToken.None))
        {
            exported.Add(point);
        }

        Assert.Equal(35, exported.Select(p => p.Id).Distinct().Count());
        Assert.Equal(4, _server.Server.Requests.Count(r => r.Path.EndsWith("/points/scroll", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SwitchAlias_MovesReadersFromBlueToGreenAtOnce()
    {
        await using var backend = _server.CreateBackend();
        await backend.EnsureCollectionAsync(Spec("blue"), CancellationToken.None);
        await backend.EnsureCollectionAsync(Spec("green"), CancellationToken.None);
        await backend.UpsertAsync("blue", Points(2), CancellationToken.None);
        await backend.UpsertAsync("green", Points(5), CancellationToken.None);

        await backend.SwitchAliasAsync("live", "blue", CancellationToken.None);
        Assert.Equal(2, await backend.CountAsync("live", null, CancellationToken.None));
        await backend.SwitchAliasAsync("live", "green", CancellationToken.None);
        Assert.Equal(5, await backend.CountAsync("live", null, CancellationToken.None));
        await backend.DeleteAliasAsync("live", CancellationToken.None);
        Assert.Null(await backend.GetCollectionAsync("live", CancellationToken.None));
    }

    [Fact]
    public void Plugin_IsDeclaredUnderTheNameQdrant()
    {
        var attribute = Assert.Single(typeof(QdrantVectorBackendPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());
        Assert.Equal("qdrant", Assert.IsType<QdrantVectorBackendPlugin>(Activator.CreateInstance(attribute.EntryPoint)).Name);
    }

    [Fact]
    public async Task Plugin_ReadsAspiresHttpConnectionString()
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?> { ["ConnectionName"] = "vectors" },
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["vectors_http"] = _server.ConnectionString });

        await using var backend = new QdrantVectorBackendPlugin().Create(context);
        await backend.EnsureCollectionAsync(Spec("configured"), CancellationToken.None);

        Assert.Equal(1, _server.Emulator.CollectionCount);
    }

    [Theory]
    [InlineData(null, "ConnectionStrings:qdrant_http is not set")]
    [InlineData("Endpoint=not a url;Key=secret-value-9", "ConnectionStrings:qdrant_http")]
    public void Plugin_WithoutUsableConnectionString_SaysWhichSettingAndNeverTheKey(string? connectionString, string expected)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?>(),
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["qdrant_http"] = connectionString });

        var error = Assert.Throws<PluginConfigurationException>(() => new QdrantVectorBackendPlugin().Create(context));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value-9", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxRequestBytes", "1000")]
    [InlineData("MaxRequestBytes", "40000000")]
    [InlineData("MaxBatchPoints", "0")]
    [InlineData("MaxAttempts", "0")]
    public void Plugin_WithInvalidSetting_NamesIt(string key, string value)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?> { [key] = value },
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["qdrant_http"] = "Endpoint=http://127.0.0.1:1" });

        var error = Assert.Throws<PluginConfigurationException>(() => new QdrantVectorBackendPlugin().Create(context));

        Assert.Contains(error.Problems, p => p.Contains(key, StringComparison.Ordinal));
    }

    private static VectorCollectionSpec Spec(string name) => new(name, 8, DistanceMetric.Cosine, Fingerprint);

    private static VectorPoint[] Points(int count, string text = "본문") =>
        [.. Enumerable.Range(0, count).Select(i => new VectorPoint(
            Guid.CreateVersion7().ToString(),
            [.. Enumerable.Range(0, 8).Select(j => (float)Math.Sin((i * 8) + j + 1))],
            new PointPayload("doc-" + (i / 10), null, text + i, ["t"], new Dictionary<string, JsonElement>(), "h" + i, i)))];
}
