using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RagPlatform.Lexical;

/// <summary><c>RagPlatform:Lexical</c>: where the BM25 index lives, its parameters and the embedded index's files.</summary>
public sealed class LexicalOptions
{
    public const string SectionName = "RagPlatform:Lexical";

    /// <summary>Where the BM25 index lives (see <see cref="LexicalStore"/>).</summary>
    public LexicalStore Store { get; set; } = LexicalStore.Auto;

    /// <summary>BM25 term-frequency saturation.</summary>
    [Range(0.0, 10.0)]
    public double K1 { get; set; } = 1.2;

    /// <summary>BM25 length normalisation (0 = none, 1 = full).</summary>
    [Range(0.0, 1.0)]
    public double B { get; set; } = 0.75;

    /// <summary>BM25 query-term saturation: a term a query repeats c times weighs (k3 + 1)·c / (k3 + c) (1 for a
    /// term said once; 0 counts every term once, large values count repeats in full as before issue 15). The
    /// default 1 is what 5-fold cross-validation on AutoRAG-ko chose, tuned with the fusion weight on each fold's
    /// training queries (docs/embedded-search.md). Read at query time: changing it needs no re-index.</summary>
    [Range(0.0, 10_000.0)]
    public double K3 { get; set; } = RagPlatform.Sdk.LexicalAnalysis.DefaultK3;

    /// <summary>Also index the one-syllable noun left when a particle is stripped ("책을" → "책"). Off by
    /// default: bigrams already match longer stems ("은행의"/"은행은" share "은행"), and on AutoRAG-ko the extra
    /// terms cost recall@1 (0.851 with, 0.860 without). The index keeps the text and tokenises it again
    /// when it is opened, so changing this needs no re-index.</summary>
    public bool ParticleStems { get; set; }

    /// <summary>Also index each Hangul word, less a trailing particle or ending, as one term beside its syllable
    /// bigrams (see <see cref="KoreanLexicalTokenizer"/>). On by default: lexical recall@1 rose on both Korean
    /// sets measured (docs/embedded-search.md). The embedded index tokenises its text again when it opens; an
    /// index that stores terms (PostgreSQL, Qdrant) records its analyzer and must be rebuilt after a change
    /// (<c>rag lexical rebuild</c>).</summary>
    public bool WordTerms { get; set; } = true;

    /// <summary>The tokenizer these options configure.</summary>
    public KoreanLexicalTokenizer CreateTokenizer() => new(ParticleStems, WordTerms);

    /// <summary>Force every index write to disk (fsync) before it is acknowledged.</summary>
    public bool FlushToDisk { get; set; }

    /// <summary>A collection's log is folded into a fresh snapshot once it grows past this many bytes.</summary>
    [Range(4096, long.MaxValue)]
    public long CompactAfterLogBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>Validates <see cref="LexicalOptions"/> at start (generated at compile time).</summary>
[OptionsValidator]
public sealed partial class LexicalOptionsValidator : IValidateOptions<LexicalOptions>;

/// <summary>Where the lexical (BM25) index lives.</summary>
public enum LexicalStore
{
    /// <summary>
    /// Beside the vectors: with an index owner (<c>RagPlatform:IndexOwner:Serve</c> or <c>:Endpoint</c>) the
    /// owner's embedded index; otherwise PostgreSQL when <c>ConnectionStrings:ragdb</c> is set; otherwise
    /// embedded files in the data directory.
    /// </summary>
    Auto,

    /// <summary>Embedded files in the data directory of the process that owns the indexes (reached through
    /// <c>RagPlatform:IndexOwner:Endpoint</c> when that is another process). In memory: the fastest to write and search.</summary>
    Embedded,

    /// <summary>In the <c>ragdb</c> PostgreSQL database, shared by every process (any number of query replicas
    /// can search it). Each chunk writes one posting row per distinct term, which costs far more than the
    /// embedded index per chunk ingested.</summary>
    Postgres,
}
