using RagPlatform.Tests.Shared;
using System.Net;
using System.Reflection;
using System.Text.Json;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Pinecone.Tests;

/// <summary>Retries, authentication, secrets, limits and layout, against our Pinecone emulator on loopback.</summary>
public sealed class PineconeBehaviourTests : IAsyncLifetime
{
    private PineconeContractServer _server = null!;

    public async Task InitializeAsync() => _server = await PineconeContractServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Request_After503s_IsRetriedWithBackoffAndSucceeds()
    {
        using var retries = new RemoteRetryCounter();
        await using var backend = _server.CreateBackend();
        await backend.EnsureCollectionAsync(Spec("retry", 8), CancellationToken.None);
        _server.Clock.Clear();
        _server.Server.EnqueueFault(new CannedResponse(503, "{\"code\":14,\"message\":\"Service Unavailable\",\"details\":[]}"));
        _server.Server.EnqueueFault(new CannedResponse(503, "{\"code\":14,\"message\":\"Service Unavailable\",\"details\":[]}"));

        await backend.UpsertAsync("retry", Points(3, 8), CancellationToken.None);

        Assert.Equal(2, _server.Clock.Waits.Count);
        // Retried by the one retry policy (RemoteRetry), counted under this call site's name.
        Assert.True(retries.Of("Pinecone") >= 2);
        Assert.Equal(3, await backend.CountAsync("retry", null, CancellationToken.None));
    }

    [Fact]
    public async Task Request_After429_WaitsWhatRetryAfterSays()
    {
        await using var backend = _server.CreateBackend();
        _server.Server.EnqueueFault(new CannedResponse(429, "{\"error\":{\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"Too many requests\"},\"status\":429}", new Dictionary<string, string> { ["Retry-After"] = "2" }));

        Assert.Null(await backend.GetCollectionAsync("absent", CancellationToken.None));

        Assert.Equal([TimeSpan.FromSeconds(2)], _server.Clock.Waits);
    }

    [Fact]
    public async Task EveryRequest_CarriesApiKeyAndVersionHeaders_AndErrorsAndLogsNeverShowTheKey()
    {
        var logger = new RecordingLogger();
        await using (var backend = _server.CreateBackend(logger: logger))
        {
            await backend.EnsureCollectionAsync(Spec("auth", 8), CancellationToken.None);
            _server.Server.EnqueueFault(new CannedResponse(500, "{\"code\":13,\"message\":\"internal\",\"details\":[]}"));
            await backend.UpsertAsync("auth", Points(2, 8), CancellationToken.None);
        }

        Assert.All(_server.Server.Requests, r =>
        {
            Assert.Equal(PineconeContractServer.ApiKey, r.Header("api-key"));
            Assert.Equal("2025-10", r.Header("x-pinecone-api-version"));
        });
        Assert.NotEmpty(logger.Lines);
        Assert.All(logger.Lines, line => Assert.DoesNotContain(PineconeContractServer.ApiKey, line, StringComparison.Ordinal));

        const string wrongKey = "pcsk_wrong_77aa";
        var options = PineconeContractServer.Options();
        options.MaxAttempts = 1;
        await using var intruder = new PineconeVectorBackend(
            options,
            ServiceConnectionString.Parse($"Endpoint={_server.Server.BaseAddress};Key={wrongKey}"),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            null,
            null);
        var error = await Assert.ThrowsAsync<RemoteServiceException>(() => intruder.GetCollectionAsync("auth", CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("Invalid API Key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_ManyOrLargeRecords_IsSplitUnderThe1000RecordAnd2MbLimits()
    {
        await using var backend = _server.CreateBackend();
        await backend.EnsureCollectionAsync(Spec("split", 8), CancellationToken.None);
        _server.Server.ClearRequests();

        await backend.UpsertAsync("split", Points(2500, 8), CancellationToken.None);
        await backend.UpsertAsync("split", Points(600, 8, text: new string('가', 3000), idPrefix: "big"), CancellationToken.None);

        var upserts = _server.Server.Requests.Where(r => r.Path.EndsWith("/vectors/upsert", StringComparison.Ordinal)).ToList();
        Assert.All(upserts, r =>
        {
            Assert.True(r.Body.Length <= 2_000_000, $"A request of {r.Body.Length} bytes exceeds 2 MB.");
            Assert.True(r.Json().GetProperty("vectors").GetArrayLength() <= 1000);
        });
        Assert.True(upserts.Count >= 3 + 2, $"Expected at least 5 requests, got {upserts.Count}.");
        Assert.Equal(3100, await backend.CountAsync("split", null, CancellationToken.None));
    }

    [Fact]
    public async Task Upsert_WithMetadataOver40KB_IsRefusedBeforeAnythingIsWritten()
    {
        await using var backend = _server.CreateBackend();
        await backend.EnsureCollectionAsync(Spec("huge", 8), CancellationToken.None);
        var points = Points(3, 8);
        points[2] = points[2] with { Payload = points[2].Payload with { Text = new string('x', 41 * 1024) } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => backend.UpsertAsync("huge", points, CancellationToken.None));

        Assert.Contains(points[2].Id, error.Message, StringComparison.Ordinal);
        Assert.Contains("40960", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await backend.CountAsync("huge", null, CancellationToken.None));
    }

    [Fact]
    public async Task Export_ListsEveryPageExactlyOnce()
    {
        var options = PineconeContractServer.Options();
        options.ListPageSize = 10;
        await using var backend = _server.CreateBackend(options);
        await backend.EnsureCollectionAsync(Spec("pages", 8), CancellationToken.None);
        await backend.UpsertAsync("pages", Points(35, 8), CancellationToken.None);
        _server.Server.ClearRequests();

        var exported = new List<VectorPoint>();
        await foreach (var point in backend.ExportAsync("pages", CancellationToken.None))
        {
            exported.Add(point);
        }

        Assert.Equal(35, exported.Select(p => p.Id).Distinct().Count());
        Assert.Equal(4, _server.Server.Requests.Count(r => r.Path.EndsWith("/vectors/list", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Collections_OfOneShapeShareAnIndex_AsNamespaces()
    {
        await using var backend = _server.CreateBackend();
        await backend.EnsureCollectionAsync(Spec("a", 8), CancellationToken.None);
        await backend.EnsureCollectionAsync(Spec("b", 8), CancellationToken.None);
        await backend.EnsureCollectionAsync(Spec("c", 16), CancellationToken.None);
        await backend.UpsertAsync("a", Points(4, 8), CancellationToken.None);
        await backend.UpsertAsync("b", Points(2, 8), CancellationToken.None);

        Assert.Equal(["rag-cosine-16", "rag-cosine-8"], _server.Emulator.IndexNames.Order(StringComparer.Ordinal));
        Assert.Equal(4, await backend.CountAsync("a", null, CancellationToken.None));
        Assert.Equal(2, await backend.CountAsync("b", null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.EnsureCollectionAsync(Spec(PineconeVectorBackend.CatalogNamespace, 8), CancellationToken.None));
    }

    [Fact]
    public void Plugin_IsDeclaredUnderTheNamePinecone()
    {
        var attribute = Assert.Single(typeof(PineconeVectorBackendPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());
        Assert.Equal("pinecone", Assert.IsType<PineconeVectorBackendPlugin>(Activator.CreateInstance(attribute.EntryPoint)).Name);
    }

    [Fact]
    public async Task Plugin_ReadsItsConnectionStringAndSettings()
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?>
            {
                ["ConnectionName"] = "cloud",
                ["IndexHostScheme"] = "http",
                ["IndexReadyPollMilliseconds"] = "0",
                ["IndexNamePrefix"] = "team",
                ["Region"] = "eu-west-1",
            },
            Path.Combine(Path.GetTempPath(), "rag-pinecone-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["cloud"] = _server.ConnectionString });

        await using var backend = await new PineconeVectorBackendPlugin().CreateAsync(context, default);
        await backend.EnsureCollectionAsync(Spec("configured", 8), CancellationToken.None);

        Assert.Equal(["team-cosine-8"], _server.Emulator.IndexNames);
        var create = _server.Server.Requests.Single(r => r.Method == "POST" && r.Path == "/indexes").Json();
        Assert.Equal("eu-west-1", create.GetProperty("spec").GetProperty("serverless").GetProperty("region").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Endpoint=https://api.pinecone.io")]
    public async Task Plugin_WithoutConnectionStringOrKey_SaysWhatIsMissing(string? connectionString)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?>(),
            Path.Combine(Path.GetTempPath(), "rag-pinecone-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["pinecone"] = connectionString });

        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new PineconeVectorBackendPlugin().CreateAsync(context, default));

        Assert.Contains("ConnectionStrings:pinecone", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxBatchRecords", "1001")]
    [InlineData("MaxRequestBytes", "3000000")]
    [InlineData("MaxMetadataBytes", "50000")]
    [InlineData("IndexNamePrefix", "Bad_Prefix")]
    [InlineData("ListPageSize", "500")]
    public async Task Plugin_WithInvalidSetting_NamesIt(string key, string value)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?> { [key] = value },
            Path.Combine(Path.GetTempPath(), "rag-pinecone-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["pinecone"] = "Endpoint=https://api.pinecone.io;Key=k" });

        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new PineconeVectorBackendPlugin().CreateAsync(context, default));

        Assert.Contains(error.Problems, p => p.Contains(key, StringComparison.Ordinal));
    }

    private static VectorCollectionSpec Spec(string name, int dimensions) =>
        new(name, dimensions, DistanceMetric.Cosine, new ModelFingerprint("test", "model", "1", dimensions, "mean", "l2"));

    private static VectorPoint[] Points(int count, int dimensions, string text = "본문", string idPrefix = "p") =>
        [.. Enumerable.Range(0, count).Select(i => new VectorPoint(
            $"{idPrefix}-{i:D5}",
            [.. Enumerable.Range(0, dimensions).Select(j => (float)Math.Sin((i * dimensions) + j + 1))],
            new PointPayload("doc-" + (i / 10), null, text + i, ["t"], new Dictionary<string, JsonElement>(), "h" + i, i)))];
}
