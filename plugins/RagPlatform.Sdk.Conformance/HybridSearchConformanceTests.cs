using Xunit;
using static RagPlatform.Sdk.Conformance.VectorBackendTestData;

namespace RagPlatform.Sdk.Conformance;

/// <summary>
/// The contract of <see cref="IHybridSearchBackend"/>: lexical search is the platform's BM25 over the analysis the
/// backend was given, hybrid search is the weighted reciprocal-rank fusion <see cref="HybridQuery"/> defines, filters
/// apply to both sides, and writes keep the terms in step with the vectors. Every fact compares the backend with a
/// brute-force reference computed here from the same points. A plugin's test project derives a class, supplies a
/// backend that implements both <see cref="IVectorBackend"/> and <see cref="IHybridSearchBackend"/>, and the
/// <see cref="LexicalAnalysis"/> it gave that backend.
/// </summary>
public abstract class HybridSearchConformanceTests : IAsyncLifetime
{
    private const int Dimensions = 16;

    private static readonly string[] Texts =
    [
        "은행의 주택담보대출 금리가 이번 달에 올랐다. 변동금리 대출을 받은 고객은 이자 부담이 커진다.",
        "정기예금 금리는 그대로이고 적금 금리는 조금 내렸다.",
        "어제 열린 축구 경기에서 홈팀이 2대 1로 이겼다. 관중은 삼만 명이 넘었다.",
        "건강검진 전날에는 저녁 9시 이후 금식해야 한다. 물은 마셔도 된다.",
        "검진 결과는 2주 뒤에 우편으로 받는다. 이상 소견이 있으면 재검사를 한다.",
        "서울시는 심야 버스 노선을 늘리기로 했다. 버스 요금은 오르지 않는다.",
        "대출 한도는 소득과 신용 점수에 따라 달라진다. 은행마다 기준이 다르다.",
        "축구 대표팀 감독이 새 선수 명단을 발표했다.",
        "Bank loan interest rates rose by 0.25 percentage points this month.",
        "주택 가격이 내려도 대출 금리가 오르면 이자 부담은 커진다. 금리 금리 금리.",
        "버스 노선 변경 안내: 7번 버스는 시청을 거치지 않는다.",
        "금식 시간은 검진 기관마다 조금씩 다르다.",
    ];

    private IVectorBackend? _backend;

    protected IVectorBackend Backend => _backend ?? throw new InvalidOperationException("The backend is not created yet.");

    protected IHybridSearchBackend Hybrid => (IHybridSearchBackend)Backend;

    /// <summary>The analysis the backend under test was given (its terms and BM25 parameters).</summary>
    protected abstract LexicalAnalysis Lexical { get; }

    /// <summary>Makes the backend under test, holding no collections of the names the facts use.</summary>
    protected abstract Task<IVectorBackend> CreateBackendAsync();

    public virtual async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        Assert.IsAssignableFrom<IHybridSearchBackend>(_backend);
    }

    public virtual async Task DisposeAsync()
    {
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("주택담보대출 금리")]
    [InlineData("건강검진 금식")]
    [InlineData("버스 노선")]
    [InlineData("bank loan rates")]
    [InlineData("주택담보대출 금리와 신용대출 금리")] // repeated terms ("금리", "대출") weigh by BM25's query-term saturation
    public async Task LexicalSearchRanksByTheReferenceBm25(string query)
    {
        var points = await FillAsync("lexical-bm25");

        var hits = await Hybrid.SearchLexicalAsync("lexical-bm25", new LexicalQuery(query, 5), CancellationToken.None);

        var expected = ReferenceBm25(points, query, filter: null).Take(5).ToList();
        Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
        foreach (var (hit, reference) in hits.Zip(expected))
        {
            AssertScoreClose(reference.Score, hit.Score, hit.Id);
        }
    }

    [Fact]
    public async Task LexicalSearchWithNoMatchingTermFindsNothing()
    {
        await FillAsync("lexical-none");

        Assert.Empty(await Hybrid.SearchLexicalAsync("lexical-none", new LexicalQuery("코끼리 기린", 5), CancellationToken.None));
        Assert.Empty(await Hybrid.SearchLexicalAsync("lexical-none", new LexicalQuery("!!! ...", 5), CancellationToken.None));
    }

    [Fact]
    public async Task LexicalSearchHonoursTagAndMetadataFilters()
    {
        var points = await FillAsync("lexical-filter");
        var filter = new VectorFilter(["even"], Metadata(("kind", "\"news\"")));

        var hits = await Hybrid.SearchLexicalAsync("lexical-filter", new LexicalQuery("금리 버스 축구 검진", 10, filter), CancellationToken.None);

        var expected = ReferenceBm25(points, "금리 버스 축구 검진", filter).Take(10).Select(e => e.Id).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, hits.Select(h => h.Id));
        Assert.All(hits, h => Assert.True(filter.Matches(h.Payload)));
    }

    [Theory]
    [InlineData(1.0, 4.0, 60.0)]
    [InlineData(1.0, 1.0, 60.0)]
    [InlineData(2.0, 3.0, 10.0)]
    [InlineData(1.0, 0.0, 60.0)]
    [InlineData(0.0, 1.0, 60.0)]
    public async Task HybridSearchFusesBothSidesByWeightedRrf(double denseWeight, double lexicalWeight, double k)
    {
        var points = await FillAsync("hybrid-rrf");
        var vector = RandomVector(new Random(99), Dimensions);

        var hits = await Hybrid.SearchHybridAsync(
            "hybrid-rrf", new HybridQuery(vector, "대출 금리 부담", 6, 8, denseWeight, lexicalWeight, k), CancellationToken.None);

        var expected = ReferenceHybrid(points, vector, "대출 금리 부담", 8, denseWeight, lexicalWeight, k, filter: null).Take(6).ToList();
        Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
        foreach (var (hit, reference) in hits.Zip(expected))
        {
            AssertScoreClose(reference.Score, hit.Score, hit.Id);
        }
    }

    [Fact]
    public async Task HybridSearchAppliesTheFilterToBothSides()
    {
        var points = await FillAsync("hybrid-filter");
        var vector = RandomVector(new Random(7), Dimensions);
        var filter = new VectorFilter(["odd"], PointPayload.NoMetadata);

        var hits = await Hybrid.SearchHybridAsync(
            "hybrid-filter", new HybridQuery(vector, "금리 검진 버스", 5, 4, 1, 4, 60, filter), CancellationToken.None);

        var expected = ReferenceHybrid(points, vector, "금리 검진 버스", 4, 1, 4, 60, filter).Take(5).Select(e => e.Id).ToList();
        Assert.Equal(expected, hits.Select(h => h.Id));
        Assert.All(hits, h => Assert.True(filter.Matches(h.Payload)));
    }

    [Fact]
    public async Task HybridSearchWithNoLexicalTermsIsTheDenseRanking()
    {
        var points = await FillAsync("hybrid-dense-only");
        var vector = RandomVector(new Random(3), Dimensions);

        var hits = await Hybrid.SearchHybridAsync(
            "hybrid-dense-only", new HybridQuery(vector, "?!", 4, 10, 1, 4, 60), CancellationToken.None);

        var dense = ReferenceTopK(DistanceMetric.Cosine, vector, points, 4);
        Assert.Equal(dense.Select(d => d.Id), hits.Select(h => h.Id));
    }

    [Fact]
    public async Task WritesKeepTheTermsInStepWithThePoints()
    {
        var points = await FillAsync("lexical-writes");
        var football = points.Where(p => p.Payload.Text.Contains("축구", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(football);

        // Deleting a document's points removes its terms; replacing a point's text replaces its terms.
        await Backend.DeleteByDocumentAsync("lexical-writes", football[0].Payload.DocumentId, CancellationToken.None);
        var replaced = points[0] with { Payload = points[0].Payload with { Text = "코끼리가 축구를 한다" } };
        await Backend.UpsertAsync("lexical-writes", [replaced], CancellationToken.None);

        var footballHits = await Hybrid.SearchLexicalAsync("lexical-writes", new LexicalQuery("축구", 10), CancellationToken.None);
        var oldTextHits = await Hybrid.SearchLexicalAsync("lexical-writes", new LexicalQuery("주택담보대출", 10), CancellationToken.None);

        Assert.DoesNotContain(footballHits, h => h.Id == football[0].Id);
        Assert.Contains(footballHits, h => h.Id == replaced.Id);
        Assert.DoesNotContain(oldTextHits, h => h.Id == replaced.Id);
    }

    [Fact]
    public async Task SearchesOnAMissingCollectionThrowNotFound()
    {
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(() =>
            Hybrid.SearchLexicalAsync("hybrid-absent", new LexicalQuery("금리", 3), CancellationToken.None));
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(() =>
            Hybrid.SearchHybridAsync("hybrid-absent", new HybridQuery(new float[Dimensions], "금리", 3, 5, 1, 1, 60), CancellationToken.None));
    }

    /// <summary>The collection with one point per text (titles on some, tags even/odd, metadata kind), written in one batch.</summary>
    private async Task<List<VectorPoint>> FillAsync(string collection)
    {
        await Backend.EnsureCollectionAsync(new VectorCollectionSpec(collection, Dimensions, DistanceMetric.Cosine, Fingerprint(Dimensions)), CancellationToken.None);
        var vectors = RandomVectors(11, Texts.Length, Dimensions);
        var points = Texts.Select((text, i) => new VectorPoint(
            $"00000000-0000-4000-8000-{i:D12}",
            vectors[i],
            Payload($"doc-{i / 2}", text, tags: [i % 2 == 0 ? "even" : "odd"], metadata: Metadata(("kind", i % 3 == 0 ? "\"news\"" : "\"guide\""))) with
            {
                Title = i % 4 == 0 ? $"제목 {i} 금리" : null,
            })).ToList();
        await Backend.UpsertAsync(collection, points, CancellationToken.None);
        return points;
    }

    /// <summary>BM25 as the platform's lexical index computes it, over the points given (ties by id).</summary>
    private List<(string Id, double Score)> ReferenceBm25(IReadOnlyList<VectorPoint> points, string query, VectorFilter? filter)
    {
        var documents = points.Select(p => (p.Id, p.Payload, Terms: Lexical.Tokenize(LexicalAnalysis.IndexedText(p.Payload)))).ToList();
        var average = documents.Average(d => (double)d.Terms.Count);
        var counts = Lexical.Tokenize(query).GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var scores = new List<(string Id, double Score)>();
        foreach (var document in documents)
        {
            if (filter is not null && !filter.Matches(document.Payload))
            {
                continue;
            }

            double score = 0;
            var matched = false;
            foreach (var (term, count) in counts)
            {
                var tf = document.Terms.Count(t => t == term);
                if (tf == 0)
                {
                    continue;
                }

                matched = true;
                var df = documents.Count(d => d.Terms.Contains(term));
                var idf = Math.Log(1 + ((documents.Count - df + 0.5) / (df + 0.5)));
                var norm = Lexical.K1 * (1 - Lexical.B + (Lexical.B * document.Terms.Count / average));
                var queryWeight = (Lexical.K3 + 1) * count / (Lexical.K3 + count); // Okapi's query-term saturation
                score += queryWeight * idf * tf * (Lexical.K1 + 1) / (tf + norm);
            }

            if (matched)
            {
                scores.Add((document.Id, score));
            }
        }

        return [.. scores.OrderByDescending(s => s.Score).ThenBy(s => s.Id, StringComparer.Ordinal)];
    }

    private List<(string Id, double Score)> ReferenceHybrid(
        IReadOnlyList<VectorPoint> points, float[] vector, string query, int depth, double denseWeight, double lexicalWeight, double k, VectorFilter? filter)
    {
        var fused = new Dictionary<string, double>(StringComparer.Ordinal);
        void Add(IEnumerable<string> ranked, double weight)
        {
            if (weight <= 0)
            {
                return;
            }

            var rank = 0;
            foreach (var id in ranked)
            {
                rank++;
                fused[id] = fused.GetValueOrDefault(id) + (weight / (k + rank));
            }
        }

        Add(ReferenceTopK(DistanceMetric.Cosine, vector, points, depth, filter).Select(d => d.Id), denseWeight);
        Add(ReferenceBm25(points, query, filter).Take(depth).Select(l => l.Id), lexicalWeight);
        return [.. fused.Select(f => (f.Key, f.Value)).OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal)];
    }
}
