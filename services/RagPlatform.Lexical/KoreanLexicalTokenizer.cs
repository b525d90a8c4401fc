using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace RagPlatform.Lexical;

/// <summary>
/// Cuts text into the terms of the lexical index. Korean is written in eojeol (a stem with particles or
/// endings attached, no space between), so whole words rarely repeat verbatim; overlapping syllable bigrams
/// match the shared stem instead ("은행의" and "은행은" both yield "은행"). A one-syllable run is its own
/// term. Letters of space-delimited scripts form words, digits form numbers, other letters (Han, kana)
/// are cut into bigrams like Hangul. Text is NFKC-normalised and case-folded first, so full-width and
/// compatibility forms match their plain spelling.
/// <para>
/// With <see cref="WordTerms"/> (the default) a Hangul run of two or more syllables also yields one whole-word
/// term, <c>w:</c> + the run less one trailing particle or common ending (조사/어미) when at least two syllables
/// remain ("금리를" → "w:금리", "공개하는" → "w:공개"). Bigrams alone score a query word's parts wherever they
/// occur, across word boundaries; the word term rewards the chunk that has the word itself. Measured on two
/// Korean sets (docs/embedded-search.md): lexical recall@1 rose on both.
/// </para>
/// </summary>
public sealed class KoreanLexicalTokenizer(bool particleStems = false, bool wordTerms = true)
{
    /// <summary>The prefix of whole-word terms; ':' never occurs inside another term (it separates runs).</summary>
    public const string WordPrefix = "w:";

    // Particles and the commonest endings stripped from a word term, longest first; only one is stripped
    // and at least two syllables must remain, so short nouns ("사이", "나이") are left alone.
    private static readonly string[] WordEndings =
    [
        "에서는", "으로는", "에게서", "이라는", "입니다", "습니다",
        "에서", "에게", "으로", "까지", "부터", "께서", "한테", "보다", "처럼", "이나", "이랑", "마다", "조차", "라는",
        "에는", "에도", "과의", "와의", "로서", "로써", "이다", "이며", "으며", "하는", "하고", "하여", "해서", "했다",
        "한다", "된다", "되는", "있는",
        "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도", "만", "나", "랑", "한",
    ];

    // Particles (조사) that end an eojeol after a noun, longest first so "에서" wins over "서".
    // Stripping them only matters for one-syllable stems ("책을" → "책"): longer stems already share bigrams.
    private static readonly string[] Particles =
    [
        "에서는", "으로는", "에게서", "이라는",
        "에서", "에게", "으로", "까지", "부터", "께서", "한테", "보다", "처럼", "이나", "이랑", "마다", "조차", "라는",
        "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도", "만", "나", "랑",
    ];

    public static KoreanLexicalTokenizer Default { get; } = new();

    /// <summary>Also index the one-syllable stem left when a known particle is stripped from a longer run.</summary>
    public bool ParticleStems { get; } = particleStems;

    /// <summary>Also index each Hangul word (less a trailing particle or ending) as one term.</summary>
    public bool WordTerms { get; } = wordTerms;

    /// <summary>
    /// Names what this tokenizer produces. An index that stores terms (PostgreSQL postings, Qdrant sparse
    /// vectors) records it and refuses to be searched or written by a tokenizer that cuts differently: its
    /// postings would silently miss. Bump the version whenever the terms of some text change.
    /// </summary>
    public string AnalyzerId => "ko-bigram/1" + (WordTerms ? "+words/2" : string.Empty) + (ParticleStems ? "+stems" : string.Empty);

    public List<string> Tokenize(string? text)
    {
        var tokens = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return tokens;
        }

        var folded = Fold(text);
        var i = 0;
        while (i < folded.Length)
        {
            var kind = Classify(folded[i]);
            if (kind is Kind.Separator or Kind.Mark)
            {
                i++;
                continue;
            }

            var end = i + 1;
            while (end < folded.Length && Continues(kind, Classify(folded[end])))
            {
                end++;
            }

            var run = folded.AsSpan(i, end - i);
            switch (kind)
            {
                case Kind.Hangul:
                    AddHangul(run, tokens);
                    break;
                case Kind.Word:
                case Kind.Digit:
                    tokens.Add(run.ToString());
                    break;
                default:
                    AddBigrams(run, tokens);
                    break;
            }

            i = end;
        }

        return tokens;
    }

    private static string Fold(string text)
    {
        var normalized = text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC);
        return normalized.ToLowerInvariant();
    }

    private void AddHangul(ReadOnlySpan<char> run, List<string> tokens)
    {
        AddBigrams(run, tokens);
        if (WordTerms && run.Length >= 2)
        {
            tokens.Add(Intern(string.Concat(WordPrefix, StripEnding(run))));
        }

        if (!ParticleStems || run.Length < 2)
        {
            return;
        }

        foreach (var particle in Particles)
        {
            if (run.Length == particle.Length + 1 && run.EndsWith(particle, StringComparison.Ordinal))
            {
                tokens.Add(run[..1].ToString());
                return;
            }
        }
    }

    private static ReadOnlySpan<char> StripEnding(ReadOnlySpan<char> run)
    {
        foreach (var ending in WordEndings)
        {
            if (run.Length >= ending.Length + 2 && run.EndsWith(ending, StringComparison.Ordinal))
            {
                return run[..^ending.Length];
            }
        }

        return run;
    }

    private static void AddBigrams(ReadOnlySpan<char> run, List<string> tokens)
    {
        if (run.Length == 1)
        {
            tokens.Add(Intern(run));
            return;
        }

        for (var k = 0; k + 1 < run.Length; k++)
        {
            tokens.Add(Intern(run.Slice(k, 2)));
        }
    }

    // Indexing a chunk yields a few hundred one- and two-character terms drawn from a small vocabulary;
    // sharing one string per term instead of allocating each occurrence took most of the tokenizer's
    // cost (and its garbage) off the ingestion path. Bounded, so hostile text cannot grow it without limit.
    private const int MaxInternedTerms = 1 << 20;
    private static readonly ConcurrentDictionary<string, string> InternedTerms = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> InternedLookup =
        InternedTerms.GetAlternateLookup<ReadOnlySpan<char>>();

    private static string Intern(ReadOnlySpan<char> term)
    {
        if (InternedLookup.TryGetValue(term, out var shared))
        {
            return shared;
        }

        var text = term.ToString();
        return InternedTerms.Count < MaxInternedTerms ? InternedTerms.GetOrAdd(text, text) : text;
    }

    private enum Kind : byte
    {
        Separator,
        Hangul,
        Word,
        Digit,
        OtherLetter,
        Mark,
    }

    private static bool Continues(Kind run, Kind next) =>
        next == run || (next == Kind.Mark && run is Kind.Word or Kind.OtherLetter);

    private static Kind Classify(char c)
    {
        if (c is >= '\uAC00' and <= '\uD7A3')
        {
            return Kind.Hangul;
        }

        if (c < 0x80)
        {
            return c switch
            {
                >= 'a' and <= 'z' or >= 'A' and <= 'Z' => Kind.Word,
                >= '0' and <= '9' => Kind.Digit,
                _ => Kind.Separator,
            };
        }

        switch (CharUnicodeInfo.GetUnicodeCategory(c))
        {
            case UnicodeCategory.DecimalDigitNumber:
                return Kind.Digit;
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
                return Kind.Mark;
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                // Latin, Greek and Cyrillic separate words with spaces: a run of their letters is a word.
                return c < '\u0530' || c is >= '\u1E00' and <= '\u1FFF' ? Kind.Word : Kind.OtherLetter;
            default:
                return Kind.Separator;
        }
    }
}
