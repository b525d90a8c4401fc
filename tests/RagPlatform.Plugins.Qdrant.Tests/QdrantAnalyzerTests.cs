using System.Text.Json;
using RagPlatform.Lexical;
using RagPlatform.Plugins.Qdrant.Tests.Contract;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// The analyzer that cut a collection's sparse BM25 vectors is recorded in its metadata; a process with another
/// analyzer refuses to search or write those vectors (their terms would not match) until `rag lexical rebuild`
/// re-cuts them. Against the gRPC contract server.
/// </summary>
public sealed class QdrantAnalyzerTests : IAsyncLifetime
{
    private static readonly ModelFingerprint Fingerprint = ModelFingerprint.Parse("test/model@1;dim=8;pool=mean;norm=l2");
    private static readonly LexicalAnalysis BigramsOnly = QdrantTestSupport.Analysis(new KoreanLexicalTokenizer(particleStems: false, wordTerms: false));
    private static readonly LexicalAnalysis Current = QdrantTestSupport.Lexical;
    private QdrantGrpcServer _server = null!;

    public async Task InitializeAsync() => _server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_new_collection_records_the_analyzer_that_cuts_its_terms()
    {
        await using var current = QdrantTestSupport.Backend(_server);
        await using var bigrams = QdrantTestSupport.Backend(_server, lexical: BigramsOnly);

        await current.EnsureCollectionAsync(Spec("words"), CancellationToken.None);
        await bigrams.EnsureCollectionAsync(Spec("bigrams"), CancellationToken.None);

        Assert.Equal("ko-bigram/1+words/2", _server.Contract.Metadata("words")[QdrantVectorBackend.AnalyzerKey].StringValue);
        Assert.Equal("ko-bigram/1", _server.Contract.Metadata("bigrams")[QdrantVectorBackend.AnalyzerKey].StringValue);
    }

    [Fact]
    public async Task The_same_analyzer_writes_and_searches_lexically_and_hybrid()
    {
        await using var backend = QdrantTestSupport.Backend(_server);
        await backend.EnsureCollectionAsync(Spec("same"), CancellationToken.None);
        await backend.UpsertAsync("same", Corpus(), CancellationToken.None);

        await using var another = QdrantTestSupport.Backend(_server); // another process with the same settings
        var lexical = await another.SearchLexicalAsync("same", new LexicalQuery("주택담보대출 금리를", 3), CancellationToken.None);
        var hybrid = await another.SearchHybridAsync("same", Hybrid("주택담보대출 금리를"), CancellationToken.None);

        Assert.Equal("loan", lexical[0].Payload.DocumentId);
        Assert.Equal("loan", hybrid[0].Payload.DocumentId);
    }

    [Fact]
    public async Task Another_analyzer_is_refused_on_search_and_on_write_naming_both_and_the_fix()
    {
        await using var bigrams = QdrantTestSupport.Backend(_server, lexical: BigramsOnly);
        await bigrams.EnsureCollectionAsync(Spec("older"), CancellationToken.None);
        await bigrams.UpsertAsync("older", Corpus(), CancellationToken.None);
        await using var current = QdrantTestSupport.Backend(_server);
        var upserts = _server.Contract.Calls.Count(c => c == "Points/Upsert");

        var search = await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() =>
            current.SearchLexicalAsync("older", new LexicalQuery("금리", 3), CancellationToken.None));
        await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => current.SearchHybridAsync("older", Hybrid("금리"), CancellationToken.None));
        await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => current.UpsertAsync("older", Corpus().Take(1).ToList(), CancellationToken.None));

        Assert.Equal(
            "The lexical index of collection 'older' was built by analyzer 'ko-bigram/1', but this process cuts terms with 'ko-bigram/1+words/2' " +
            "(RagPlatform:Lexical:WordTerms and :ParticleStems): its terms would not match. " +
            "Run `rag lexical rebuild --collection older` to index it again with this analyzer, or configure the one it was built with.",
            search.Message);
        Assert.Equal(upserts, _server.Contract.Calls.Count(c => c == "Points/Upsert")); // nothing was written

        // The dense vectors do not depend on the analyzer: dense search and export still work; the analyzer it was built with still searches.
        Assert.NotEmpty(await current.SearchAsync("older", new VectorQuery(Corpus()[0].Vector, 2), CancellationToken.None));
        Assert.Equal(Corpus().Length, await current.ExportAsync("older", CancellationToken.None).CountAsync());
        Assert.Equal("loan", (await bigrams.SearchLexicalAsync("older", new LexicalQuery("주택담보대출 금리", 3), CancellationToken.None))[0].Payload.DocumentId);
    }

    [Fact]
    public async Task A_collection_without_the_record_counts_as_bigrams_only()
    {
        await using (var maker = QdrantTestSupport.Backend(_server, lexical: BigramsOnly))
        {
            await maker.EnsureCollectionAsync(Spec("legacy"), CancellationToken.None);
            await maker.UpsertAsync("legacy", Corpus(), CancellationToken.None);
        }

        _server.Contract.RemoveMetadata("legacy", QdrantVectorBackend.AnalyzerKey); // as the plugin made it before it recorded one
        await using var bigrams = QdrantTestSupport.Backend(_server, lexical: BigramsOnly);
        await using var current = QdrantTestSupport.Backend(_server);

        Assert.NotEmpty(await bigrams.SearchLexicalAsync("legacy", new LexicalQuery("금리", 3), CancellationToken.None));
        await bigrams.UpsertAsync("legacy", Corpus().Take(1).ToList(), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() =>
            current.SearchLexicalAsync("legacy", new LexicalQuery("금리", 3), CancellationToken.None));
        Assert.Equal("ko-bigram/1", refused.RecordedAnalyzer);
        Assert.Equal("ko-bigram/1+words/2", refused.CurrentAnalyzer);
    }

    [Fact]
    public async Task Rebuild_recuts_the_sparse_vectors_and_records_the_analyzer_so_they_search_as_a_fresh_collection()
    {
        await using var bigrams = QdrantTestSupport.Backend(_server, lexical: BigramsOnly);
        await bigrams.EnsureCollectionAsync(Spec("rebuilt"), CancellationToken.None);
        await bigrams.UpsertAsync("rebuilt", Corpus(), CancellationToken.None);
        _server.Contract.RemoveMetadata("rebuilt", QdrantVectorBackend.AnalyzerKey);
        await using var current = QdrantTestSupport.Backend(_server);
        await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => current.SearchLexicalAsync("rebuilt", new LexicalQuery("금리", 3), CancellationToken.None));

        var chunks = await current.RebuildLexicalAsync("rebuilt", CancellationToken.None);

        Assert.Equal(Corpus().Length, chunks);
        var metadata = _server.Contract.Metadata("rebuilt");
        Assert.Equal(Current.AnalyzerId, metadata[QdrantVectorBackend.AnalyzerKey].StringValue);
        var lengths = Corpus().Select(p => Current.Tokenize(LexicalAnalysis.IndexedText(p.Payload)).Count).ToList();
        Assert.Equal(lengths.Average(), metadata[QdrantVectorBackend.AverageLengthKey].DoubleValue, 9);
        var loan = Corpus().Single(p => p.Payload.DocumentId == "loan");
        Assert.Contains(Bm25TermWeights.IndexOf("w:금리"), _server.Contract.Sparse("rebuilt", Guid.Parse(loan.Id))!.Indices);

        // The same collection written by the current analyzer from the start ranks and scores every query the same.
        await current.EnsureCollectionAsync(Spec("fresh"), CancellationToken.None);
        await current.UpsertAsync("fresh", Corpus(), CancellationToken.None);
        foreach (var query in new[] { "주택담보대출 금리를", "건강검진 금식", "환불 규정은", "도서관" })
        {
            var expected = await current.SearchLexicalAsync("fresh", new LexicalQuery(query, 5), CancellationToken.None);
            var actual = await current.SearchLexicalAsync("rebuilt", new LexicalQuery(query, 5), CancellationToken.None);
            Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
            Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score));
        }

        // The dense vectors and payloads came through unchanged; the older analyzer is now the one refused.
        Assert.Equal(Corpus().OrderBy(p => p.Id).Select(p => p.Payload.Text), (await current.ExportAsync("rebuilt", CancellationToken.None).ToListAsync()).OrderBy(p => p.Id).Select(p => p.Payload.Text));
        await using var restarted = QdrantTestSupport.Backend(_server, lexical: BigramsOnly);
        await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => restarted.UpsertAsync("rebuilt", Corpus().Take(1).ToList(), CancellationToken.None));
    }

    private static VectorCollectionSpec Spec(string name) => new(name, 8, DistanceMetric.Cosine, Fingerprint);

    private static HybridQuery Hybrid(string text) => new(Corpus()[0].Vector, text, 3, 10, 1, 4, 60);

    // Fixed ids and vectors, so every call returns the same points.
    private static VectorPoint[] Corpus() =>
    [
        Point(1, "loan", "주택담보대출 금리가 인상되었습니다. 변동금리 대출은 매달 금리를 확인하세요."),
        Point(2, "health", "건강검진 전날에는 금식해야 합니다. 검진 결과는 일주일 뒤에 확인할 수 있습니다."),
        Point(3, "refund", "환불 규정: 구매 후 7일 이내에 환불을 요청할 수 있습니다."),
        Point(4, "library", "도서관 운영 시간은 오전 9시부터 오후 6시까지입니다."),
        Point(5, "rates", "예금 금리와 대출 금리의 차이를 설명합니다."),
    ];

    private static VectorPoint Point(int i, string document, string text) => new(
        new Guid(i, 0, 0, [0, 0, 0, 0, 0, 0, 0, (byte)i]).ToString(),
        [.. Enumerable.Range(0, 8).Select(j => (float)Math.Sin((i * 8) + j + 1))],
        new PointPayload(document, null, text, ["t"], new Dictionary<string, JsonElement>(), "h" + i, 0));
}
