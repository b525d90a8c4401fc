using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>The tunable weights of the feature scheme. Each one shapes the vector space, so the provider's
/// fingerprint revision names any value that differs from the default.</summary>
internal sealed record FeatureScheme
{
    public const float DefaultWordWeight = 2f;
    public const float DefaultTailBigramWeight = 0.5f;

    /// <summary>Weight of a Latin/Greek/Cyrillic word relative to a Hangul bigram.</summary>
    public float Word { get; init; } = DefaultWordWeight;

    /// <summary>Weight of the last bigram of a Hangul run of three or more syllables, relative to the others.</summary>
    public float TailBigram { get; init; } = DefaultTailBigramWeight;
}

/// <summary>
/// Extracts Korean-aware features from normalised, case-folded text and adds them, signed-hashed, into a
/// vector. Works over spans of the caller's buffer: no string is made per feature.
/// </summary>
internal static class FeatureHasher
{
    // Per-kind seeds keep, say, the word "ab" apart from the character bigram "ab" of another kind, and let
    // one kind be re-seeded without moving the others. Changing any seed, the hash or the index/sign rule
    // is a new revision of the vector space (the known-vector test pins them).
    private const ulong HangulSeed = 0x9E3779B97F4A7C15;
    private const ulong WordSeed = 0xC2B2AE3D27D4EB4F;
    private const ulong NumberSeed = 0x165667B19E3779F9;
    private const ulong OtherLetterSeed = 0x27D4EB2F165667C5;
    private const ulong SymbolSeed = 0x85EBCA77C2B2AE63;

    private const ulong FnvOffset = 0xCBF29CE484222325;
    private const ulong FnvPrime = 0x100000001B3;

    /// <summary>
    /// Adds the features of <paramref name="text"/> into <paramref name="vector"/> (not normalised).
    /// Returns false when the text has nothing to hash (only whitespace).
    /// </summary>
    public static bool Accumulate(ReadOnlySpan<char> text, FeatureScheme scheme, Span<float> vector)
    {
        // No kind yields more features than the units it covers, plus one for a trailing run.
        var table = new FeatureTable(text.Length + 1);
        try
        {
            ExtractFeatures(text, scheme, ref table);
            if (table.Count == 0)
            {
                // Nothing but punctuation, symbols or emoji: hash those, so such inputs still get distinct,
                // non-zero vectors instead of failing.
                ExtractSymbols(text, ref table);
            }

            if (table.Count == 0)
            {
                return false;
            }

            table.AddTo(vector);
            if (vector.IndexOfAnyExcept(0f) < 0)
            {
                // Every feature cancelled out (two of opposite sign in one bucket, likelier at few dimensions) or
                // weighed 0: fall back to one feature for the whole text, which cannot cancel, so the vector can
                // still be normalised and stays distinct.
                var (index, sign) = Locate(Hash(SymbolSeed, text), vector.Length);
                vector[index] = sign;
            }

            return true;
        }
        finally
        {
            table.Dispose();
        }
    }

    private static void ExtractFeatures(ReadOnlySpan<char> text, FeatureScheme scheme, ref FeatureTable table)
    {
        var i = 0;
        while (i < text.Length)
        {
            var cls = CharClassifier.Classify(text[i]);
            if (cls is CharClass.Space or CharClass.Other or CharClass.Mark)
            {
                i++;
                continue;
            }

            var end = i + 1;
            while (end < text.Length && CharClassifier.Continues(cls, CharClassifier.Classify(text[end])))
            {
                end++;
            }

            var run = text[i..end];
            switch (cls)
            {
                case CharClass.Hangul:
                    AddHangulRun(run, scheme, ref table);
                    break;
                case CharClass.Word:
                    table.Add(Hash(WordSeed, run), scheme.Word);
                    break;
                case CharClass.Digit:
                    table.Add(Hash(NumberSeed, run), 1f);
                    break;
                default:
                    AddBigrams(run, OtherLetterSeed, ref table);
                    break;
            }

            i = end;
        }
    }

    private static void AddHangulRun(ReadOnlySpan<char> run, FeatureScheme scheme, ref FeatureTable table)
    {
        if (run.Length == 1)
        {
            // A one-syllable word has no bigram; it is its own feature.
            table.Add(Hash(HangulSeed, run), 1f);
            return;
        }

        // The last bigram of a longer eojeol usually spans a particle or an ending ("행의" in "은행의",
        // "니다" in "합니다"): shared by unrelated texts, so it weighs less than the stem's bigrams. A
        // two-syllable run keeps its one bigram whole, as it is often the bare stem.
        var last = run.Length - 2;
        for (var k = 0; k < last; k++)
        {
            table.Add(Hash(HangulSeed, run.Slice(k, 2)), 1f);
        }

        table.Add(Hash(HangulSeed, run.Slice(last, 2)), last == 0 ? 1f : scheme.TailBigram);
    }

    private static void AddBigrams(ReadOnlySpan<char> run, ulong seed, ref FeatureTable table)
    {
        if (run.Length == 1)
        {
            table.Add(Hash(seed, run), 1f);
            return;
        }

        for (var k = 0; k + 1 < run.Length; k++)
        {
            table.Add(Hash(seed, run.Slice(k, 2)), 1f);
        }
    }

    private static void ExtractSymbols(ReadOnlySpan<char> text, ref FeatureTable table)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                continue;
            }

            var length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            table.Add(Hash(SymbolSeed, text.Slice(i, length)), 1f);
            i += length - 1;
        }
    }

    /// <summary>
    /// FNV-1a over the UTF-16 units, seeded per feature kind, then a 64-bit avalanche finaliser so that
    /// every output bit (the index uses the low ones, the sign the top one) depends on every input bit.
    /// Stable across processes, platforms and runtime versions, unlike <see cref="string.GetHashCode()"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Hash(ulong seed, ReadOnlySpan<char> units)
    {
        var h = FnvOffset ^ seed;
        foreach (var c in units)
        {
            h ^= c;
            h *= FnvPrime;
        }

        h ^= (ulong)units.Length;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB64E279185B9;
        h ^= h >> 33;
        return h;
    }

    /// <summary>Index = the low 63 bits mod dimensions; sign = the top bit, independent of the index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int Index, float Sign) Locate(ulong hash, int dimensions) =>
        ((int)((hash & 0x7FFF_FFFF_FFFF_FFFF) % (ulong)dimensions), (long)hash < 0 ? -1f : 1f);

    /// <summary>
    /// Counts each distinct feature (by its 64-bit hash) in an open-addressing table on pooled arrays, so
    /// term frequency is per feature, not per bucket: two features colliding in one bucket keep their own tf.
    /// </summary>
    private struct FeatureTable : IDisposable
    {
        private readonly ulong[] _keys;
        private readonly int[] _counts;
        private readonly float[] _weights;
        private readonly int[] _used;
        private readonly int _mask;

        public FeatureTable(int maxFeatures)
        {
            // At most half full, so probes stay short.
            var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, maxFeatures) * 2);
            _keys = ArrayPool<ulong>.Shared.Rent(capacity);
            _counts = ArrayPool<int>.Shared.Rent(capacity);
            _weights = ArrayPool<float>.Shared.Rent(capacity);
            _used = ArrayPool<int>.Shared.Rent(maxFeatures);
            _mask = capacity - 1;
            Array.Clear(_counts, 0, capacity);
            Count = 0;
        }

        public int Count { get; private set; }

        public void Add(ulong key, float weight)
        {
            var slot = (int)key & _mask;
            while (true)
            {
                if (_counts[slot] == 0)
                {
                    _keys[slot] = key;
                    _counts[slot] = 1;
                    _weights[slot] = weight;
                    _used[Count++] = slot;
                    return;
                }

                if (_keys[slot] == key)
                {
                    _counts[slot]++;
                    _weights[slot] += weight;
                    return;
                }

                slot = (slot + 1) & _mask;
            }
        }

        public readonly void AddTo(Span<float> vector)
        {
            for (var u = 0; u < Count; u++)
            {
                var slot = _used[u];
                var count = _counts[slot];
                // Sublinear tf (1 + ln tf) times the mean weight of the feature's occurrences: a term repeated
                // all over a long page should not drown the rest. Measured better than raw or binary tf.
                var value = count == 1 ? _weights[slot] : _weights[slot] / count * (1f + MathF.Log(count));
                var (index, sign) = Locate(_keys[slot], vector.Length);
                vector[index] += sign * value;
            }
        }

        public readonly void Dispose()
        {
            ArrayPool<ulong>.Shared.Return(_keys);
            ArrayPool<int>.Shared.Return(_counts);
            ArrayPool<float>.Shared.Return(_weights);
            ArrayPool<int>.Shared.Return(_used);
        }
    }
}
