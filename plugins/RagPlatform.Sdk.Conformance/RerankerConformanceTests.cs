using Xunit;

namespace RagPlatform.Sdk.Conformance;

/// <summary>
/// The contract every <see cref="IReranker"/> must honour. A plugin's test project derives a class from this one
/// and supplies <see cref="CreateRerankerAsync"/>; each fact makes its own reranker and disposes it.
/// </summary>
/// <remarks>
/// The relevance fact uses a query whose words the relevant passage contains and its distractors do not, in
/// Korean, as the platform's users write them. Any trained cross-encoder ranks such a passage first; a test model
/// with random weights needs a built-in term for it (the project's fixture has one: scripts/fixtures/make-tiny-bert.py).
/// </remarks>
public abstract class RerankerConformanceTests
{
    public const string Query = "건강검진 전날 금식 시간";

    public const string Relevant = "건강검진 전날에는 저녁 9시 이후 금식 시간을 지켜야 정확한 혈액 검사 결과를 얻을 수 있습니다.";

    public static readonly IReadOnlyList<string> Distractors =
    [
        "주택담보대출 변동금리가 0.25%포인트 올라 고정금리로 갈아타는 사람이 늘었다.",
        "축구 대표팀은 월드컵 예선 마지막 경기에서 두 골을 넣고 승리했다.",
        "서울특별시는 내년부터 심야 버스 노선을 열두 개로 늘리기로 했다.",
        "새로 나온 스마트폰은 배터리 용량이 커지고 카메라 성능이 좋아졌다.",
        "The quick brown fox jumps over the lazy dog.",
    ];

    /// <summary>The largest difference two scores of the same pair may have (batching, padding, kernels).</summary>
    protected virtual float ScoreTolerance => 1e-4f;

    /// <summary>Makes a ready reranker. Called once per fact; the fact disposes it.</summary>
    protected abstract Task<IReranker> CreateRerankerAsync();

    [Fact]
    public async Task RanksTheRelevantPassageAboveEveryDistractor()
    {
        await using var reranker = await CreateRerankerAsync();
        var candidates = Distractors.Take(2).Append(Relevant).Concat(Distractors.Skip(2))
            .Select((text, i) => new RerankCandidate($"c{i}", null, text)).ToList();

        var scores = await reranker.ScoreAsync(Query, candidates, CancellationToken.None);

        Assert.Equal(candidates.Count, scores.Count);
        var relevant = scores[2];
        for (var i = 0; i < scores.Count; i++)
        {
            if (i != 2)
            {
                Assert.True(relevant > scores[i], $"the relevant passage scored {relevant}, distractor {i} {scores[i]}");
            }
        }
    }

    [Fact]
    public async Task AnItemScoresTheSameAloneAsInABatch()
    {
        await using var reranker = await CreateRerankerAsync();
        var batch = Enumerable.Range(0, 50)
            .Select(i => new RerankCandidate($"c{i}", i % 3 == 0 ? $"문서 {i}" : null, Distractors[i % Distractors.Count] + new string('다', i % 17) + $" {i}"))
            .Append(new RerankCandidate("relevant", "검진 안내", Relevant))
            .ToList();

        var together = await reranker.ScoreAsync(Query, batch, CancellationToken.None);

        Assert.Equal(batch.Count, together.Count);
        foreach (var index in new[] { 0, 7, 23, 49, 50 })
        {
            var alone = await reranker.ScoreAsync(Query, [batch[index]], CancellationToken.None);
            Assert.True(Math.Abs(alone[0] - together[index]) <= ScoreTolerance, $"item {index}: {alone[0]} alone, {together[index]} in the batch");
        }
    }

    [Fact]
    public async Task ScoresAreFiniteAndInCandidateOrder()
    {
        await using var reranker = await CreateRerankerAsync();
        var candidates = Distractors.Append(Relevant).Select((text, i) => new RerankCandidate($"c{i}", null, text)).ToList();

        var forward = await reranker.ScoreAsync(Query, candidates, CancellationToken.None);
        var backward = await reranker.ScoreAsync(Query, [.. Enumerable.Reverse(candidates)], CancellationToken.None);

        Assert.All(forward, s => Assert.True(float.IsFinite(s), $"score {s}"));
        for (var i = 0; i < candidates.Count; i++)
        {
            Assert.True(Math.Abs(forward[i] - backward[candidates.Count - 1 - i]) <= ScoreTolerance, $"candidate {i} moved with its position");
        }
    }

    [Fact]
    public async Task NoCandidatesGiveNoScores()
    {
        await using var reranker = await CreateRerankerAsync();

        Assert.Empty(await reranker.ScoreAsync(Query, [], CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentCallersGetTheirOwnScores()
    {
        await using var reranker = await CreateRerankerAsync();
        var queries = Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? Query : $"질문 {i} 대출 금리").ToArray();
        var candidates = Distractors.Append(Relevant).Select((text, i) => new RerankCandidate($"c{i}", null, text)).ToList();
        var expected = new List<IReadOnlyList<float>>();
        foreach (var query in queries)
        {
            expected.Add(await reranker.ScoreAsync(query, candidates, CancellationToken.None));
        }

        var concurrent = await Task.WhenAll(queries.Select(q => Task.Run(() => reranker.ScoreAsync(q, candidates, CancellationToken.None))));

        for (var q = 0; q < queries.Length; q++)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                Assert.True(Math.Abs(expected[q][i] - concurrent[q][i]) <= ScoreTolerance, $"query {q}, candidate {i}");
            }
        }
    }

    [Fact]
    public async Task ACancelledCallThrowsOperationCanceled()
    {
        await using var reranker = await CreateRerankerAsync();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            reranker.ScoreAsync(Query, [new RerankCandidate("c", null, Relevant)], cancellation.Token));
    }
}
