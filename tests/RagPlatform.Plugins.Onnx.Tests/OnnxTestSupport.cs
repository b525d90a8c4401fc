using System.Reflection;
using RagPlatform.Tokenizers;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RagPlatform.Plugins.Onnx.Tests;

internal static class OnnxTestSupport
{
    /// <summary>The committed fixture model (tests/fixtures/models/tiny-bert, made by scripts/fixtures/make-tiny-bert.py).</summary>
    public static string TinyBert { get; } = Metadata("TinyBertModel");

    public const int TinyBertHidden = 32;
    public const int TinyBertVocabulary = 669;

    /// <summary>The committed cross-encoder fixture (tests/fixtures/models/tiny-cross-encoder, make-tiny-bert.py --cross-encoder).</summary>
    public static string TinyCrossEncoder { get; } = Metadata("TinyCrossEncoderModel");

    public static OnnxEmbedderOptions Options(Action<OnnxEmbedderOptions>? configure = null)
    {
        var options = new OnnxEmbedderOptions { ModelPath = TinyBert, IntraOpThreads = 1 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A provider over the fixture model with the test tokenizer (see <see cref="CodePointTokenizer"/>).</summary>
    public static OnnxEmbeddingProvider Provider(Action<OnnxEmbedderOptions>? configure = null, ModelFolder? folder = null) =>
        new(Options(configure), folder ?? ModelFolder.Open(TinyBert), new CodePointTokenizer(TinyBertVocabulary));

    public static OnnxRerankerOptions RerankerOptions(Action<OnnxRerankerOptions>? configure = null)
    {
        var options = new OnnxRerankerOptions { ModelPath = TinyCrossEncoder, IntraOpThreads = 1 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A reranker over the cross-encoder fixture with its own tokenizer.json (WordPiece, BERT pair template).</summary>
    public static OnnxReranker Reranker(Action<OnnxRerankerOptions>? configure = null)
    {
        var folder = ModelFolder.Open(TinyCrossEncoder);
        return new OnnxReranker(RerankerOptions(configure), folder, TokenizerFile.Load(folder.TokenizerFile));
    }

    public static float Cosine(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);

    private static string Metadata(string key) => typeof(OnnxTestSupport).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;
}

/// <summary>
/// A vocabulary-free stand-in for the model's tokenizer, so the ONNX path is tested on its own: [CLS], one id
/// per non-space UTF-16 unit (folded into the vocabulary past the five special tokens), [SEP]. Not a
/// tokenizer anyone should use: the real one is RagPlatform.Tokenizers'.
/// </summary>
internal sealed class CodePointTokenizer(int vocabularySize) : ITextTokenizer
{
    public const int Cls = 2;
    public const int Sep = 3;
    private const int FirstOrdinary = 5;

    public int PadTokenId => 0;

    public TokenizedText Encode(string text, int maxLength)
    {
        var ids = new List<int> { Cls };
        foreach (var c in text)
        {
            if (ids.Count >= maxLength - 1)
            {
                break;
            }

            if (!char.IsWhiteSpace(c))
            {
                ids.Add(IdOf(c));
            }
        }

        ids.Add(Sep);
        return new TokenizedText([.. ids], new int[ids.Count]);
    }

    public int CountTokens(string text) => text.Count(c => !char.IsWhiteSpace(c)) + 2;

    public int IdOf(char c) => FirstOrdinary + (c % (vocabularySize - FirstOrdinary));
}
