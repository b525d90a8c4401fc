using RagPlatform.Sdk;

namespace RagPlatform.Plugins.HashingEmbedder.Tests;

public sealed class HashingEmbeddingProviderTests
{
    private static readonly HashingEmbeddingProvider _provider = new(new HashingEmbedderOptions());

    [Fact]
    public void FingerprintIsTheDocumentedOne()
    {
        Assert.Equal("hashing/korean-ngram-hash@1;dim=1024;pool=none;norm=l2", _provider.Fingerprint.ToString());
        Assert.Equal(8192, _provider.MaxInputTokens);
        Assert.Equal(256, _provider.MaxBatchSize);
    }

    /// <summary>
    /// Pins the feature scheme, hash, seeds and index/sign rule. If this fails, the vectors of every stored
    /// collection changed: bump <see cref="HashingEmbeddingProvider.SchemeRevision"/> and update these numbers.
    /// </summary>
    [Fact]
    public async Task KnownVectorDoesNotDriftWithoutARevisionBump()
    {
        Assert.Equal("1", HashingEmbeddingProvider.SchemeRevision);

        var vector = await EmbedAsync(_provider, "한국어 검색");

        // "한국" and "검색" weigh 1, the tail bigram "국어" 0.5; normalised by sqrt(1 + 1 + 0.25) = 1.5.
        Assert.Equal(3, vector.Count(value => value != 0f));
        Assert.Equal(2f / 3f, vector[34], 5);  // 한국
        Assert.Equal(2f / 3f, vector[4], 5);   // 검색
        Assert.Equal(-1f / 3f, vector[304], 5); // 국어, negative sign

        Assert.Equal(1f, (await EmbedAsync(_provider, "한국"))[34], 5);
        Assert.Equal(-1f, (await EmbedAsync(_provider, "국어"))[304], 5);
        Assert.Equal(-1f, (await EmbedAsync(_provider, "ESG"))[715], 5);
        Assert.Equal(1f, (await EmbedAsync(_provider, "2024"))[846], 5);
        Assert.Equal(-1f, (await EmbedAsync(_provider, "漢字"))[882], 5);

        // The index is the hash mod the dimensions, so a power-of-two size keeps the low bits' buckets.
        var wide = await EmbedAsync(new HashingEmbeddingProvider(new HashingEmbedderOptions { Dimensions = 65536 }), "한국어 검색");
        Assert.Equal(2f / 3f, wide[2082], 5);
        Assert.Equal(2f / 3f, wide[7172], 5);
        Assert.Equal(-1f / 3f, wide[1328], 5);
    }

    [Fact]
    public async Task AParticleInflectedWordSharesFeaturesWithItsStem()
    {
        var inflected = await EmbedAsync(_provider, "은행의");
        var stem = await EmbedAsync(_provider, "은행");
        var unrelated = await EmbedAsync(_provider, "축구");

        var related = Cosine(inflected, stem);
        Assert.True(related > 0.5f, $"cos(은행의, 은행) = {related}");
        Assert.True(related > Cosine(inflected, unrelated), "the stem should be closer than an unrelated word");
    }

    [Fact]
    public async Task AQueryRanksTheDocumentSharingItsTermsFirst()
    {
        string[] documents =
        [
            "한국은행은 기준금리를 연 3.5%로 동결했다.",
            "프로축구 K리그 개막전에서 울산이 승리했다.",
            "서울시는 대중교통 요금 인상을 발표했다.",
        ];
        var query = await EmbedAsync(_provider, "기준금리 동결", EmbeddingPurpose.Query);

        var scores = new List<float>();
        foreach (var document in documents)
        {
            scores.Add(Cosine(query, await EmbedAsync(_provider, document)));
        }

        Assert.Equal(0, scores.IndexOf(scores.Max()));
    }

    [Fact]
    public async Task DocumentAndQueryPurposesGiveTheSameVector()
    {
        const string text = "검색 질의와 문서는 같은 공간에 있다";

        Assert.Equal(await EmbedAsync(_provider, text, EmbeddingPurpose.Document), await EmbedAsync(_provider, text, EmbeddingPurpose.Query));
    }

    [Fact]
    public async Task TextIsNfkcNormalisedAndCaseFolded()
    {
        var plain = await EmbedAsync(_provider, "abc 123 카카오");

        Assert.Equal(plain, await EmbedAsync(_provider, "ABC 123 카카오"));
        Assert.Equal(plain, await EmbedAsync(_provider, "ＡＢＣ １２３ 카카오"));
        // Hangul written as conjoining jamo composes to the same syllables.
        Assert.Equal(plain, await EmbedAsync(_provider, "abc 123 \u110F\u1161\u110F\u1161\u110B\u1169"));
    }

    [Fact]
    public async Task PunctuationAndWhitespaceOnlySeparateRuns()
    {
        Assert.Equal(await EmbedAsync(_provider, "은행 금리"), await EmbedAsync(_provider, "  은행,\n금리!! "));
    }

    [Fact]
    public async Task DimensionsOptionIsHonoured()
    {
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { Dimensions = 300 });

        var vector = await EmbedAsync(provider, "차원 수 설정");

        Assert.Equal(300, provider.Fingerprint.Dimensions);
        Assert.Equal(300, vector.Length);
    }

    [Fact]
    public void NonDefaultWeightsChangeTheFingerprint()
    {
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { LatinWordWeight = 1f, HangulTailWeight = 0.25f });

        Assert.Equal("1+word=1+tail=0.25", provider.Fingerprint.Revision);
        Assert.False(provider.Fingerprint.IsSameVectorSpace(_provider.Fingerprint));
        Assert.Equal(provider.Fingerprint, ModelFingerprint.Parse(provider.Fingerprint.ToString()));
    }

    [Fact]
    public async Task TailWeightOfOneTreatsEveryBigramAlike()
    {
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { HangulTailWeight = 1f });

        var vector = await EmbedAsync(provider, "한국어");

        Assert.Equal(MathF.Sqrt(0.5f), vector[34], 5);
        Assert.Equal(-MathF.Sqrt(0.5f), vector[304], 5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(65537)]
    public void ValidationRejectsDimensionsOutOfRange(int dimensions)
    {
        var options = new HashingEmbedderOptions { Dimensions = dimensions };

        Assert.Contains(options.Validate(), problem => problem.Contains("Dimensions", StringComparison.Ordinal));
        var error = Assert.Throws<PluginConfigurationException>(() => new HashingEmbeddingProvider(options));
        Assert.Single(error.Problems);
    }

    [Fact]
    public void ValidationRejectsEveryBadSetting()
    {
        var options = new HashingEmbedderOptions
        {
            Dimensions = 0,
            MaxInputTokens = 0,
            MaxBatchSize = -1,
            LatinWordWeight = float.NaN,
            HangulTailWeight = -1f,
        };

        Assert.Equal(5, options.Validate().Count());
        Assert.Empty(new HashingEmbedderOptions().Validate());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\r\n\u3000")]
    public async Task BlankInputFailsWithAReason(string input)
    {
        var results = await _provider.EmbedAsync([input], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.False(results[0].Succeeded);
        Assert.Equal("input is empty", results[0].Error);
    }

    [Fact]
    public async Task SymbolOnlyInputsStillGetDistinctVectors()
    {
        var smile = await EmbedAsync(_provider, "😀");
        var party = await EmbedAsync(_provider, "🎉");
        var dots = await EmbedAsync(_provider, "...");

        Assert.NotEqual(smile, party);
        Assert.NotEqual(smile, dots);
        Assert.Equal(1f, MathF.Sqrt(smile.Sum(v => v * v)), 3);
    }

    [Fact]
    public async Task FeaturesThatCancelOutStillGiveAUnitVector()
    {
        // At 32 dimensions two words soon share a bucket with opposite signs; together they would sum to zero.
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { Dimensions = 32 });
        var seen = new Dictionary<(int Index, float Sign), string>();
        string? pair = null;
        for (var c = 0xAC00; pair is null && c < 0xAC00 + 2000; c += 7)
        {
            var word = string.Concat((char)c, "다");
            var vector = await EmbedAsync(provider, word);
            var index = Array.FindIndex(vector, value => value != 0f);
            if (seen.TryGetValue((index, -vector[index]), out var opposite))
            {
                pair = $"{opposite} {word}";
            }

            seen.TryAdd((index, vector[index]), word);
        }

        Assert.NotNull(pair);
        var cancelled = await EmbedAsync(provider, pair);
        Assert.Equal(1f, MathF.Sqrt(cancelled.Sum(v => v * v)), 3);
        Assert.NotEqual(cancelled, await EmbedAsync(provider, pair + " 다른"));
    }

    [Fact]
    public async Task ZeroWeightedWordsStillGiveAUnitVector()
    {
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { LatinWordWeight = 0f });

        var vector = await EmbedAsync(provider, "only latin words");

        Assert.Equal(1f, MathF.Sqrt(vector.Sum(v => v * v)), 3);
    }

    [Fact]
    public async Task InputBeyondMaxInputTokensIsEmbeddedFromItsPrefix()
    {
        var provider = new HashingEmbeddingProvider(new HashingEmbedderOptions { MaxInputTokens = 4 });

        var results = await provider.EmbedAsync(["은행 금리 축구 경기 결과", "은행 금리"], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(4, results[0].Tokens);
        Assert.Equal(results[1].Vector, results[0].Vector);
    }

    [Fact]
    public async Task TokensReportTheEstimate()
    {
        var results = await _provider.EmbedAsync(["은행의 금리"], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(5, results[0].Tokens);
        Assert.Equal(5, _provider.CountTokens("은행의 금리"));
    }

    [Fact]
    public async Task LargeParallelBatchMatchesOneByOne()
    {
        var inputs = Enumerable.Range(0, 300).Select(i => $"병렬 처리 {i} 번째 청크: 금융위원회 인가 요건 {i % 17}").ToArray();

        var batch = await _provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, batch.Count);
        for (var i = 0; i < inputs.Length; i += 37)
        {
            Assert.Equal(await EmbedAsync(_provider, inputs[i]), batch[i].Vector);
        }
    }

    [Fact]
    public async Task CancelledTokenCancelsTheTask()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _provider.EmbedAsync(["취소"], EmbeddingPurpose.Document, cancellation.Token));
    }

    private static async Task<float[]> EmbedAsync(IEmbeddingProvider provider, string text, EmbeddingPurpose purpose = EmbeddingPurpose.Document)
    {
        var results = await provider.EmbedAsync([text], purpose, CancellationToken.None);
        Assert.True(results[0].Succeeded, results[0].Error);
        return results[0].Vector!;
    }

    private static float Cosine(float[] a, float[] b)
    {
        float dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / MathF.Sqrt(na * nb);
    }
}
