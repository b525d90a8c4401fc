using System.Buffers;
using System.Globalization;
using System.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>
/// A model-free embedding: signed feature hashing of Korean-aware features, L2-normalised, so cosine
/// similarity approximates a (sublinear-tf) bag-of-n-grams overlap. The text is NFKC-normalised and case-folded;
/// Hangul syllable runs give syllable bigrams (a one-syllable run gives itself), Latin/Greek/Cyrillic letter runs
/// give words, digit runs give numbers, other letters (Han, kana, ...) give character bigrams; whitespace and
/// punctuation only separate runs (an input of nothing but symbols or emoji hashes those instead).
/// Stateless and thread-safe; the same text gives the same vector in every process and on every platform.
/// </summary>
/// <remarks>
/// An input longer than <see cref="MaxInputTokens"/> (by <see cref="KoreanTokenEstimator"/>) is embedded from
/// its first <see cref="MaxInputTokens"/> estimated tokens; the rest is ignored, as a model's truncation would.
/// </remarks>
public sealed class HashingEmbeddingProvider : IEmbeddingProvider
{
    public const string ProviderName = "hashing";
    public const string ModelName = "korean-ngram-hash";

    /// <summary>The feature scheme's revision. Bump it whenever the features, weights, hash or index/sign rule
    /// change, so vectors of the old scheme are never compared with new ones.</summary>
    public const string SchemeRevision = "1";

    // Below this many inputs the fan-out costs more than it saves (one ~300-char input takes a few microseconds).
    private const int ParallelThreshold = 32;

    private readonly FeatureScheme _scheme;

    /// <exception cref="PluginConfigurationException">The options are invalid.</exception>
    public HashingEmbeddingProvider(HashingEmbedderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(HashingEmbedderOptions), problems);
        }

        _scheme = new FeatureScheme { Word = options.LatinWordWeight, TailBigram = options.HangulTailWeight };
        MaxInputTokens = options.MaxInputTokens;
        MaxBatchSize = options.MaxBatchSize;
        Fingerprint = new ModelFingerprint(
            ProviderName,
            ModelName,
            RevisionFor(_scheme),
            options.Dimensions,
            Pooling: "none",
            Normalization: "l2");
    }

    public ModelFingerprint Fingerprint { get; }

    public int MaxInputTokens { get; }

    public int MaxBatchSize { get; }

    /// <summary>Hashing a text is cheaper than hashing it for a cache key and looking that up.</summary>
    public bool CacheVectors => false;

    public int CountTokens(string text) => KoreanTokenEstimator.CountTokens(text);

    /// <remarks>
    /// The space is symmetric: <paramref name="purpose"/> is ignored, and a query and a document with the same
    /// text get the same vector. The work is synchronous; large batches are spread over the thread pool.
    /// </remarks>
    public Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(
        IReadOnlyList<string> inputs,
        EmbeddingPurpose purpose,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<EmbeddingResult>>(cancellationToken);
        }

        var results = new EmbeddingResult[inputs.Count];
        try
        {
            if (inputs.Count >= ParallelThreshold && Environment.ProcessorCount > 1)
            {
                Parallel.For(
                    0,
                    inputs.Count,
                    new ParallelOptions { CancellationToken = cancellationToken },
                    i => results[i] = EmbedOne(inputs[i]));
            }
            else
            {
                for (var i = 0; i < inputs.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    results[i] = EmbedOne(inputs[i]);
                }
            }
        }
        catch (OperationCanceledException ex)
        {
            return Task.FromCanceled<IReadOnlyList<EmbeddingResult>>(
                ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : cancellationToken);
        }

        return Task.FromResult<IReadOnlyList<EmbeddingResult>>(results);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Embeds one text; never throws for a bad input.</summary>
    private EmbeddingResult EmbedOne(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return EmbeddingResult.Failure("input is empty");
        }

        try
        {
            var length = KoreanTokenEstimator.GetPrefixLength(input, MaxInputTokens, out var tokens);
            var vector = new float[Fingerprint.Dimensions];
            if (!Embed(input.AsSpan(0, length), _scheme, vector))
            {
                return EmbeddingResult.Failure("input has no text within MaxInputTokens");
            }

            return EmbeddingResult.Success(vector, tokens);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A defect here must cost one input, not the batch.
            return EmbeddingResult.Failure($"hashing failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Normalises, case-folds and hashes <paramref name="text"/> into <paramref name="vector"/>,
    /// then scales it to unit length. False when there was nothing to hash.</summary>
    private static bool Embed(ReadOnlySpan<char> text, FeatureScheme scheme, Span<float> vector)
    {
        char[]? normalized = null;
        var folded = ArrayPool<char>.Shared.Rent(Math.Max(1, text.Length));
        try
        {
            var source = Normalize(text, ref normalized);
            if (source.Length > folded.Length)
            {
                ArrayPool<char>.Shared.Return(folded);
                folded = ArrayPool<char>.Shared.Rent(source.Length);
            }

            var length = source.ToLowerInvariant(folded);
            if (!FeatureHasher.Accumulate(folded.AsSpan(0, length), scheme, vector))
            {
                return false;
            }

            VectorMath.NormalizeInPlace(vector);
            return true;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(folded);
            if (normalized is not null)
            {
                ArrayPool<char>.Shared.Return(normalized);
            }
        }
    }

    private static ReadOnlySpan<char> Normalize(ReadOnlySpan<char> text, ref char[]? rented)
    {
        try
        {
            // Hangul syllables and plain ASCII are already NFKC; the check is far cheaper than a copy.
            if (text.IsNormalized(NormalizationForm.FormKC))
            {
                return text;
            }

            rented = ArrayPool<char>.Shared.Rent(text.GetNormalizedLength(NormalizationForm.FormKC));
            return text.TryNormalize(rented, out var written, NormalizationForm.FormKC) ? rented.AsSpan(0, written) : text;
        }
        catch (ArgumentException)
        {
            // Ill-formed UTF-16 (a lone surrogate) cannot be normalised; hash it as it is rather than fail.
            return text;
        }
    }

    /// <summary>"1" for the default weights; otherwise each changed weight is appended ("1+word=3+tail=1"),
    /// so differently weighted deployments never share a fingerprint (and so a collection).</summary>
    private static string RevisionFor(FeatureScheme scheme)
    {
        var revision = SchemeRevision;
        if (scheme.Word != FeatureScheme.DefaultWordWeight)
        {
            revision += string.Create(CultureInfo.InvariantCulture, $"+word={scheme.Word:R}");
        }

        if (scheme.TailBigram != FeatureScheme.DefaultTailBigramWeight)
        {
            revision += string.Create(CultureInfo.InvariantCulture, $"+tail={scheme.TailBigram:R}");
        }

        return revision;
    }
}
