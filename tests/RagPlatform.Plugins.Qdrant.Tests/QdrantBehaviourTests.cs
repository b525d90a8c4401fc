using System.Reflection;
using System.Text.Json;
using Grpc.Core;
using RagPlatform.Plugins.Qdrant.Tests.Contract;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>Retries, authentication, secrets, batching, BM25 weights, aliases and snapshots, against the gRPC contract server.</summary>
public sealed class QdrantBehaviourTests : IAsyncLifetime
{
    private static readonly ModelFingerprint Fingerprint = ModelFingerprint.Parse("test/model@1;dim=8;pool=mean;norm=l2");
    private QdrantGrpcServer _server = null!;

    public async Task InitializeAsync() => _server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Call_AfterUnavailableAnswers_IsRetriedByTheOneRetryPolicyAndSucceeds()
    {
        using var retries = new RagPlatform.Tests.Shared.RemoteRetryCounter();
        await using var backend = QdrantTestSupport.Backend(_server);
        _server.Contract.EnqueueFault(StatusCode.Unavailable);
        _server.Contract.EnqueueFault(StatusCode.ResourceExhausted);

        await backend.EnsureCollectionAsync(Spec("retry"), CancellationToken.None);

        Assert.NotNull(await backend.GetCollectionAsync("retry", CancellationToken.None));
        Assert.Equal(3, _server.Contract.Calls.Count(c => c == "Collections/Get") - 2);
        Assert.True(retries.Of("Qdrant") >= 2);
    }

    [Fact]
    public async Task Call_WhenEveryAttemptFails_ThrowsWithQdrantsStatusAndTextButNotTheKey()
    {
        var logger = new RecordingLogger();
        await using var backend = QdrantTestSupport.Backend(_server, new QdrantOptions { MaxAttempts = 3, RetryBaseDelayMilliseconds = 5 }, logger);
        for (var i = 0; i < 3; i++)
        {
            _server.Contract.EnqueueFault(StatusCode.Unavailable);
        }

        var error = await Assert.ThrowsAsync<RemoteServiceException>(() => backend.GetCollectionAsync("x", CancellationToken.None));

        Assert.Contains("Unavailable", error.Message, StringComparison.Ordinal);
        Assert.Contains("injected Unavailable", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _server.Contract.Calls.Count);
        Assert.DoesNotContain(QdrantTestSupport.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.All(logger.Lines, line => Assert.DoesNotContain(QdrantTestSupport.ApiKey, line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryCall_CarriesTheApiKey_AndAWrongKeyIsRefusedWithoutEchoingIt()
    {
        await using (var backend = QdrantTestSupport.Backend(_server))
        {
            await backend.EnsureCollectionAsync(Spec("auth"), CancellationToken.None);
            await backend.UpsertAsync("auth", Points(3), CancellationToken.None);
            await backend.SearchAsync("auth", new VectorQuery(Points(1)[0].Vector, 2), CancellationToken.None);
        }

        Assert.All(_server.Contract.Keys, key => Assert.Equal(QdrantTestSupport.ApiKey, key));

        const string wrongKey = "wrong-key-51a0";
        await using var intruder = QdrantTestSupport.Backend(_server, connectionString: $"Endpoint={_server.Address};Key={wrongKey}");
        var error = await Assert.ThrowsAsync<RemoteServiceException>(() => intruder.GetCollectionAsync("auth", CancellationToken.None));

        Assert.Contains("Unauthenticated", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_LargerThanTheRequestLimit_IsSplitIntoRequestsUnderIt()
    {
        await using var small = await QdrantGrpcServer.StartAsync(maxRequestBytes: 70 * 1024);
        await using var backend = QdrantTestSupport.Backend(small, new QdrantOptions { MaxRequestBytes = 64 * 1024 });
        await backend.EnsureCollectionAsync(Spec("split"), CancellationToken.None);
        var points = Points(40, text: new string('가', 2000));

        await backend.UpsertAsync("split", points, CancellationToken.None);

        Assert.True(small.Contract.Calls.Count(c => c == "Points/Upsert") >= 2);
        Assert.Equal(40, small.Contract.PointCount("split"));
    }

    [Fact]
    public async Task Upsert_WithOneBadVector_WritesNothing()
    {
        await using var backend = QdrantTestSupport.Backend(_server);
        await backend.EnsureCollectionAsync(Spec("bad"), CancellationToken.None);
        var points = Points(5);
        points[3] = points[3] with { Vector = [1, 2, 3] };

        await Assert.ThrowsAnyAsync<ArgumentException>(() => backend.UpsertAsync("bad", points, CancellationToken.None));

        Assert.Equal(0, _server.Contract.PointCount("bad"));
        Assert.DoesNotContain("Points/Upsert", _server.Contract.Calls);
    }

    [Fact]
    public async Task Collection_HasTheDenseAndIdfSparseVectors_AndKeepsFingerprintAndBm25AverageInItsMetadata()
    {
        await using var backend = QdrantTestSupport.Backend(_server);
        await backend.EnsureCollectionAsync(Spec("meta"), CancellationToken.None);
        var points = Points(4, text: "은행 대출 금리 안내 ");

        await backend.UpsertAsync("meta", points, CancellationToken.None);

        var metadata = _server.Contract.Metadata("meta");
        Assert.Equal(Fingerprint.ToString(), metadata[QdrantVectorBackend.FingerprintKey].StringValue);
        var lengths = points.Select(p => QdrantTestSupport.Lexical.Tokenize(LexicalAnalysis.IndexedText(p.Payload)).Count).ToList();
        Assert.Equal(lengths.Average(), metadata[QdrantVectorBackend.AverageLengthKey].DoubleValue, 9);
        Assert.Equal(4, metadata[QdrantVectorBackend.SampleKey].IntegerValue);

        // The chunk's sparse vector holds BM25's term-frequency part for each of its distinct terms.
        var sparse = _server.Contract.Sparse("meta", Guid.Parse(points[0].Id))!;
        var terms = QdrantTestSupport.Lexical.Tokenize(LexicalAnalysis.IndexedText(points[0].Payload));
        Assert.Equal(terms.Distinct().Count(), sparse.Indices.Count);
        var tf = terms.Count(t => t == "금리");
        var norm = 1.2 * (1 - 0.75 + (0.75 * terms.Count / lengths.Average()));
        var at = sparse.Indices.IndexOf(Bm25TermWeights.IndexOf("금리"));
        Assert.Equal(tf * 2.2 / (tf + norm), sparse.Values[at], 5);
    }

    [Fact]
    public async Task Bm25AverageLength_StopsMovingAfterItsSample()
    {
        await using var backend = QdrantTestSupport.Backend(_server, new QdrantOptions { AverageLengthSampleChunks = 3 });
        await backend.EnsureCollectionAsync(Spec("sample"), CancellationToken.None);
        await backend.UpsertAsync("sample", Points(3, text: "짧은 글 "), CancellationToken.None);
        var average = _server.Contract.Metadata("sample")[QdrantVectorBackend.AverageLengthKey].DoubleValue;

        await backend.UpsertAsync("sample", Points(3, text: string.Concat(Enumerable.Repeat("아주 긴 글의 문장 ", 30))), CancellationToken.None);

        Assert.Equal(average, _server.Contract.Metadata("sample")[QdrantVectorBackend.AverageLengthKey].DoubleValue);
    }

    [Theory]
    [InlineData(1.0, 4.0, 1, 4)]
    [InlineData(1.0, 1.0, 1, 1)]
    [InlineData(0.5, 1.0, 1, 2)]
    [InlineData(2.0, 3.0, 2, 3)]
    [InlineData(1.0, 0.0, 1, 0)]
    [InlineData(0.0, 2.5, 0, 1)]
    public void WeightedRrf_IsSentAsPrefetchCopiesInTheWeightsRatio(double dense, double lexical, int denseCopies, int lexicalCopies)
    {
        Assert.Equal((denseCopies, lexicalCopies), QdrantVectorBackend.PrefetchRepeats(dense, lexical));
    }

    [Fact]
    public async Task SwitchAlias_MovesReadersFromBlueToGreenAtOnce()
    {
        await using var backend = QdrantTestSupport.Backend(_server);
        await backend.EnsureCollectionAsync(Spec("blue"), CancellationToken.None);
        await backend.EnsureCollectionAsync(Spec("green"), CancellationToken.None);
        await backend.UpsertAsync("blue", Points(2), CancellationToken.None);
        await backend.UpsertAsync("green", Points(5), CancellationToken.None);

        await backend.SwitchAliasAsync("docs", "blue", CancellationToken.None);
        var before = await backend.CountAsync("docs", null, CancellationToken.None);
        await backend.SwitchAliasAsync("docs", "green", CancellationToken.None);
        var after = await backend.CountAsync("docs", null, CancellationToken.None);

        Assert.Equal(2, before);
        Assert.Equal(5, after);
        Assert.Equal(["docs"], await backend.ListAliasesAsync("green", CancellationToken.None));
        Assert.Empty(await backend.ListAliasesAsync("blue", CancellationToken.None));
        await backend.DeleteAliasAsync("docs", CancellationToken.None);
        await backend.DeleteAliasAsync("docs", CancellationToken.None); // absent: no-op
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(() => backend.CountAsync("docs", null, CancellationToken.None));
    }

    [Fact]
    public async Task Snapshots_AreCreatedListedAndDeleted()
    {
        await using var backend = QdrantTestSupport.Backend(_server);
        await backend.EnsureCollectionAsync(Spec("backup"), CancellationToken.None);
        await backend.UpsertAsync("backup", Points(3), CancellationToken.None);

        var first = await backend.CreateSnapshotAsync("backup", CancellationToken.None);
        var second = await backend.CreateSnapshotAsync("backup", CancellationToken.None);
        var listed = await backend.ListSnapshotsAsync("backup", CancellationToken.None);
        await backend.DeleteSnapshotAsync("backup", first, CancellationToken.None);

        Assert.Equal([first, second], listed.Select(s => s.Name));
        Assert.All(listed, s => Assert.True(s.Bytes > 0));
        Assert.Equal([second], (await backend.ListSnapshotsAsync("backup", CancellationToken.None)).Select(s => s.Name));
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(() => backend.CreateSnapshotAsync("no-such", CancellationToken.None));
    }

    [Fact]
    public void Plugin_IsDeclaredUnderTheNameQdrant()
    {
        var attribute = Assert.Single(typeof(QdrantVectorBackendPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());
        Assert.Equal("qdrant", Assert.IsType<QdrantVectorBackendPlugin>(Activator.CreateInstance(attribute.EntryPoint)).Name);
    }

    [Fact]
    public async Task Plugin_ReadsAspiresGrpcConnectionString()
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?> { ["ConnectionName"] = "vectors" },
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["vectors"] = _server.ConnectionString },
            QdrantTestSupport.Lexical);

        await using var backend = await new QdrantVectorBackendPlugin().CreateAsync(context, default);
        await backend.EnsureCollectionAsync(Spec("configured"), CancellationToken.None);

        Assert.IsAssignableFrom<IHybridSearchBackend>(backend);
        Assert.Equal(0, _server.Contract.PointCount("configured"));
    }

    [Theory]
    [InlineData(null, "ConnectionStrings:qdrant is not set")]
    [InlineData("Endpoint=not a url;Key=secret-value-9", "ConnectionStrings:qdrant")]
    public async Task Plugin_WithoutUsableConnectionString_SaysWhichSettingAndNeverTheKey(string? connectionString, string expected)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?>(),
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["qdrant"] = connectionString },
            QdrantTestSupport.Lexical);

        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new QdrantVectorBackendPlugin().CreateAsync(context, default));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value-9", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxRequestBytes", "1000")]
    [InlineData("MaxRequestBytes", "40000000")]
    [InlineData("MaxBatchPoints", "0")]
    [InlineData("MaxAttempts", "0")]
    [InlineData("SparseVectorName", "dense")]
    public async Task Plugin_WithInvalidSetting_NamesIt(string key, string value)
    {
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?> { [key] = value },
            Path.Combine(Path.GetTempPath(), "rag-qdrant-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string?> { ["qdrant"] = "Endpoint=http://127.0.0.1:1" },
            QdrantTestSupport.Lexical);

        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new QdrantVectorBackendPlugin().CreateAsync(context, default));

        Assert.Contains(error.Problems, p => p.Contains(key, StringComparison.Ordinal));
    }

    private static VectorCollectionSpec Spec(string name) => new(name, 8, DistanceMetric.Cosine, Fingerprint);

    private static VectorPoint[] Points(int count, string text = "본문") =>
        [.. Enumerable.Range(0, count).Select(i => new VectorPoint(
            Guid.CreateVersion7().ToString(),
            [.. Enumerable.Range(0, 8).Select(j => (float)Math.Sin((i * 8) + j + 1))],
            new PointPayload("doc-" + (i / 10), null, text + i, ["t"], new Dictionary<string, JsonElement>(), "h" + i, i)))];
}
