using System.Text;
using Xunit;

namespace RagPlatform.Sdk.Conformance;

/// <summary>
/// The contract every <see cref="IEmbeddingProvider"/> must honour. A plugin's test project derives a class
/// from this one and supplies <see cref="CreateProviderAsync"/>; xunit runs every fact below against it.
/// Each fact makes its own provider and disposes it, so facts can run in any order.
/// </summary>
/// <remarks>
/// Vectors are compared with a small tolerance (<see cref="VectorTolerance"/>) rather than bit for bit, so a
/// provider whose arithmetic varies in the last bits (GPU kernels, remote services) can still conform.
/// </remarks>
public abstract class EmbeddingProviderConformanceTests
{
    /// <summary>The largest element-wise difference two vectors of the same text may have.</summary>
    protected virtual float VectorTolerance => 1e-4f;

    /// <summary>
    /// True (the default) when the provider fails an empty input on its own and embeds the rest of the batch.
    /// A provider that cannot tell which input was bad (a remote API that rejects the whole request) sets it to
    /// false; it must still return one result per input and not throw.
    /// </summary>
    protected virtual bool FailsEmptyInputIndividually => true;

    /// <summary>Makes a ready provider. Called once per fact; the fact disposes it.</summary>
    protected abstract Task<IEmbeddingProvider> CreateProviderAsync();

    [Fact]
    public async Task FingerprintIsWellFormed()
    {
        await using var provider = await CreateProviderAsync();
        var fingerprint = provider.Fingerprint;

        Assert.NotNull(fingerprint);
        Assert.False(string.IsNullOrWhiteSpace(fingerprint.Provider));
        Assert.False(string.IsNullOrWhiteSpace(fingerprint.Model));
        Assert.False(string.IsNullOrWhiteSpace(fingerprint.Revision));
        Assert.False(string.IsNullOrWhiteSpace(fingerprint.Pooling));
        Assert.False(string.IsNullOrWhiteSpace(fingerprint.Normalization));
        Assert.True(fingerprint.Dimensions > 0, $"Dimensions is {fingerprint.Dimensions}.");
        Assert.Equal(fingerprint, ModelFingerprint.Parse(fingerprint.ToString()));
        Assert.True(provider.MaxInputTokens > 0, $"MaxInputTokens is {provider.MaxInputTokens}.");
        Assert.True(provider.MaxBatchSize > 0, $"MaxBatchSize is {provider.MaxBatchSize}.");
    }

    [Fact]
    public async Task ReturnsOneResultPerInputInInputOrder()
    {
        await using var provider = await CreateProviderAsync();
        string[] inputs = ["은행 대출 금리", "The quick brown fox", "2024년 예산안", "서울특별시 교통 정책", "machine learning"];

        var batch = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, batch.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            // Order is proven by matching each batch slot with the same text embedded alone.
            var alone = await EmbedOneAsync(provider, inputs[i], EmbeddingPurpose.Document);
            AssertValid(provider, batch[i], inputs[i]);
            AssertClose(alone, batch[i].Vector!, $"batch slot {i} ('{inputs[i]}')");
        }
    }

    [Fact]
    public async Task VectorsHaveTheFingerprintDimensionsAndFiniteValues()
    {
        await using var provider = await CreateProviderAsync();
        string[] inputs = ["한국어 문장입니다.", "English sentence.", "数字 12345 と かな", "a"];

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, results.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            AssertValid(provider, results[i], inputs[i]);
        }
    }

    [Fact]
    public async Task VectorsHaveUnitNormWhenNormalizationIsL2()
    {
        await using var provider = await CreateProviderAsync();
        if (!string.Equals(provider.Fingerprint.Normalization, "l2", StringComparison.OrdinalIgnoreCase))
        {
            // Nothing to check: the provider does not promise unit vectors.
            return;
        }

        string[] inputs = ["정규화된 벡터", "normalised vector", "1", "긴 문장 " + new string('가', 500)];
        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        for (var i = 0; i < inputs.Length; i++)
        {
            AssertValid(provider, results[i], inputs[i]);
            var norm = Norm(results[i].Vector!);
            Assert.True(Math.Abs(norm - 1.0) <= 1e-3, $"Input {i} has norm {norm}; l2 normalisation promises 1.");
        }
    }

    [Fact]
    public async Task SameInputGivesTheSameVectorAcrossCalls()
    {
        await using var provider = await CreateProviderAsync();
        const string text = "같은 입력은 언제나 같은 벡터를 낸다 (determinism).";

        var first = await EmbedOneAsync(provider, text, EmbeddingPurpose.Document);
        var second = await EmbedOneAsync(provider, text, EmbeddingPurpose.Document);
        var inBatch = await provider.EmbedAsync(["다른 문장", text], EmbeddingPurpose.Document, CancellationToken.None);

        AssertClose(first, second, "second call");
        AssertValid(provider, inBatch[1], text);
        AssertClose(first, inBatch[1].Vector!, "same text inside another batch");
    }

    [Fact]
    public async Task DifferentTextsGiveDifferentVectors()
    {
        await using var provider = await CreateProviderAsync();
        string[] inputs = ["은행 예금 금리", "축구 경기 결과", "quantum physics", "은행 대출 한도"];

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        for (var i = 0; i < inputs.Length; i++)
        {
            AssertValid(provider, results[i], inputs[i]);
            for (var j = i + 1; j < inputs.Length; j++)
            {
                Assert.True(
                    MaxDifference(results[i].Vector!, results[j].Vector!) > VectorTolerance,
                    $"'{inputs[i]}' and '{inputs[j]}' got the same vector.");
            }
        }
    }

    [Fact]
    public async Task EmptyBatchGivesEmptyResult()
    {
        await using var provider = await CreateProviderAsync();

        var results = await provider.EmbedAsync([], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.NotNull(results);
        Assert.Empty(results);
    }

    [Fact]
    public async Task BothPurposesWork()
    {
        await using var provider = await CreateProviderAsync();
        const string text = "주택담보대출의 금리는 어떻게 정해지나요?";

        foreach (var purpose in Enum.GetValues<EmbeddingPurpose>())
        {
            var results = await provider.EmbedAsync([text], purpose, CancellationToken.None);
            Assert.Single(results);
            AssertValid(provider, results[0], $"{text} ({purpose})");
        }
    }

    [Fact]
    public async Task EmptyInputFailsOnlyItsOwnResult()
    {
        await using var provider = await CreateProviderAsync();
        string[] inputs = ["앞 문장", "", "뒤 문장", "   "];

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, results.Count);
        if (FailsEmptyInputIndividually)
        {
            AssertValid(provider, results[0], inputs[0]);
            AssertValid(provider, results[2], inputs[2]);
            foreach (var blank in new[] { 1, 3 })
            {
                Assert.False(results[blank].Succeeded, $"Blank input {blank} got a vector.");
                Assert.False(string.IsNullOrWhiteSpace(results[blank].Error), $"Blank input {blank} failed without a reason.");
            }
        }
        else
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                AssertValidOrFailed(provider, results[i], i);
            }
        }
    }

    [Fact]
    public async Task UnusualInputsDoNotThrow()
    {
        await using var provider = await CreateProviderAsync();
        string[] inputs =
        [
            "대한민국의 수도는 서울이다. 한글은 세종대왕이 창제하였다.",
            "😀🎉👍🏽 emoji 이모지 👨‍👩‍👧",
            "control\u0000chars\u0001\u0007\u001B[31m\u007F here",
            "\t\r\n 앞뒤 공백 \u00A0\u3000",
            "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ㈜ ㎞ ﾊﾝｶｸ",
            "混合 テキスト with 한국어 and العربية and русский",
            "\u1100\u1161\u11A8 조합형 자모 ㄱㄴㄷ ㅋㅋㅋ",
            "lone \uD800 surrogate \uDC00 halves",
            "!!!???...---",
            LongText(100_000),
        ];

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, results.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            AssertValidOrFailed(provider, results[i], i);
            Assert.True(provider.CountTokens(inputs[i]) >= 0);
        }

        // Plain Korean text is the provider's everyday input: it must embed, not merely not throw.
        AssertValid(provider, results[0], inputs[0]);
    }

    [Fact]
    public async Task ABatchOfManyInputsKeepsCountAndOrder()
    {
        await using var provider = await CreateProviderAsync();
        var count = Math.Min(provider.MaxBatchSize, 64);
        var inputs = Enumerable.Range(0, count).Select(i => $"문서 {i}번: 항목 {i * 7919 % 1000}에 관한 설명").ToArray();

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(count, results.Count);
        for (var i = 0; i < count; i += Math.Max(1, count / 8))
        {
            AssertValid(provider, results[i], inputs[i]);
            AssertClose(await EmbedOneAsync(provider, inputs[i], EmbeddingPurpose.Document), results[i].Vector!, $"slot {i}");
        }
    }

    [Fact]
    public async Task ConcurrentCallsGiveTheSameVectorsAsSequentialCalls()
    {
        await using var provider = await CreateProviderAsync();
        var batches = Enumerable.Range(0, 8)
            .Select(b => Enumerable.Range(0, 6).Select(i => $"동시 호출 {b}-{i}: 한국어 검색 품질 {b * i}").ToArray())
            .ToArray();

        var sequential = new List<IReadOnlyList<EmbeddingResult>>();
        foreach (var batch in batches)
        {
            sequential.Add(await provider.EmbedAsync(batch, EmbeddingPurpose.Document, CancellationToken.None));
        }

        var concurrent = await Task.WhenAll(batches.Select(batch =>
            Task.Run(() => provider.EmbedAsync(batch, EmbeddingPurpose.Document, CancellationToken.None))));

        for (var b = 0; b < batches.Length; b++)
        {
            Assert.Equal(batches[b].Length, concurrent[b].Count);
            for (var i = 0; i < batches[b].Length; i++)
            {
                AssertValid(provider, concurrent[b][i], batches[b][i]);
                AssertClose(sequential[b][i].Vector!, concurrent[b][i].Vector!, $"batch {b} slot {i}");
            }
        }
    }

    /// <summary>
    /// A cancelled token must stop the call with <see cref="OperationCanceledException"/> (or a subclass such as
    /// <see cref="TaskCanceledException"/>). Also accepted: a provider that finished its work synchronously before
    /// it looked at the token may return complete, valid results instead. Anything else (another exception,
    /// partial or missing results) fails.
    /// </summary>
    [Fact]
    public async Task CancelledTokenCancelsOrCompletes()
    {
        await using var provider = await CreateProviderAsync();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        string[] inputs = ["취소된 요청", "cancelled request"];

        IReadOnlyList<EmbeddingResult>? results = null;
        var error = await Record.ExceptionAsync(async () =>
            results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Query, cancellation.Token));

        if (error is not null)
        {
            Assert.IsAssignableFrom<OperationCanceledException>(error);
        }
        else
        {
            Assert.NotNull(results);
            Assert.Equal(inputs.Length, results.Count);
            for (var i = 0; i < inputs.Length; i++)
            {
                AssertValid(provider, results[i], inputs[i]);
            }
        }
    }

    [Fact]
    public async Task CountTokensIsPositiveAndGrowsWithText()
    {
        await using var provider = await CreateProviderAsync();
        string[] texts =
        [
            "가",
            "a",
            "1",
            "한국어 토큰 수를 셉니다.",
            "Counting tokens in an English sentence, with punctuation!",
            "혼합 mixed 텍스트 12345 😀",
            LongText(5_000),
        ];

        foreach (var text in texts)
        {
            var total = provider.CountTokens(text);
            Assert.True(total > 0, $"CountTokens('{Preview(text)}') is {total}.");

            // Longer text never has fewer tokens than its prefix (a tokenizer may merge at the cut, hence the slack of 1).
            var previous = 0;
            foreach (var cut in Cuts(text))
            {
                var count = provider.CountTokens(text[..cut]);
                Assert.True(count >= 0, $"CountTokens of a {cut}-char prefix is {count}.");
                Assert.True(count + 1 >= previous, $"A {cut}-char prefix of '{Preview(text)}' has {count} tokens, a shorter one {previous}.");
                Assert.True(count <= total + 1, $"A {cut}-char prefix of '{Preview(text)}' has {count} tokens, the whole text {total}.");
                previous = Math.Max(previous, count);
            }
        }
    }

    /// <summary>Embeds one text and asserts it succeeded.</summary>
    protected static async Task<float[]> EmbedOneAsync(IEmbeddingProvider provider, string text, EmbeddingPurpose purpose)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var results = await provider.EmbedAsync([text], purpose, CancellationToken.None);
        Assert.Single(results);
        AssertValid(provider, results[0], text);
        return results[0].Vector!;
    }

    /// <summary>Asserts a successful result with a vector of the fingerprint's length and only finite values.</summary>
    protected static void AssertValid(IEmbeddingProvider provider, EmbeddingResult result, string input)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Assert.True(result.Succeeded, $"'{Preview(input)}' failed: {result.Error}");
        AssertVectorShape(provider, result.Vector!, Preview(input));
        Assert.True(result.Tokens >= 0, $"'{Preview(input)}' reports {result.Tokens} tokens.");
    }

    private static void AssertValidOrFailed(IEmbeddingProvider provider, EmbeddingResult result, int index)
    {
        if (result.Succeeded)
        {
            AssertVectorShape(provider, result.Vector!, $"input {index}");
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Error), $"Input {index} failed without a reason.");
        }
    }

    private static void AssertVectorShape(IEmbeddingProvider provider, float[] vector, string what)
    {
        Assert.Equal(provider.Fingerprint.Dimensions, vector.Length);
        for (var d = 0; d < vector.Length; d++)
        {
            Assert.True(float.IsFinite(vector[d]), $"{what}: element {d} is {vector[d]}.");
        }
    }

    private void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var difference = MaxDifference(expected, actual);
        Assert.True(difference <= VectorTolerance, $"{what}: vectors differ by up to {difference}.");
    }

    private static float MaxDifference(float[] a, float[] b)
    {
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    private static double Norm(float[] vector)
    {
        var sum = 0.0;
        foreach (var value in vector)
        {
            sum += (double)value * value;
        }

        return Math.Sqrt(sum);
    }

    private static IEnumerable<int> Cuts(string text)
    {
        var step = Math.Max(1, text.Length / 40);
        for (var cut = 1; cut <= text.Length; cut += step)
        {
            // Never between the halves of a surrogate pair: that prefix is not text a caller would send.
            if (!char.IsHighSurrogate(text[cut - 1]))
            {
                yield return cut;
            }
        }
    }

    private static string LongText(int length)
    {
        const string sentence = "한국어 검색 증강 생성(RAG) 플랫폼은 문서를 청크로 나누어 임베딩합니다. Version 2.1, 2024-05-01. ";
        var builder = new StringBuilder(length + sentence.Length);
        while (builder.Length < length)
        {
            builder.Append(sentence);
        }

        return builder.ToString(0, length);
    }

    private static string Preview(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
