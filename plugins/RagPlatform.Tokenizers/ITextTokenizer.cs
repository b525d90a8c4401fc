namespace RagPlatform.Tokenizers;

/// <summary>
/// One text as a model input: token ids with the special tokens the tokenizer's post-processor adds, and
/// the token type ids it declares (all zero for single sequences in BERT and XLM-R).
/// </summary>
public readonly record struct TokenizedText(int[] InputIds, int[] TypeIds)
{
    public int Length => InputIds.Length;
}

/// <summary>A tokenizer as a Hugging Face tokenizer.json describes it; thread-safe, shared by all callers.</summary>
public interface ITextTokenizer
{
    /// <summary>The id padding positions take (the file's padding token, else the model's pad token).</summary>
    int PadTokenId { get; }

    /// <summary>tokenizer_config.json's model_max_length (else tokenizer.json's truncation max_length), if declared.</summary>
    int? ModelMaxLength => null;

    /// <summary>Encodes one text, special tokens included, truncated to at most <paramref name="maxLength"/> tokens.</summary>
    /// <remarks>Truncation cuts the text and keeps the special tokens ([CLS] … [SEP], &lt;s&gt; … &lt;/s&gt;).</remarks>
    TokenizedText Encode(string text, int maxLength);

    /// <summary>How many tokens the text takes without truncation, special tokens included.</summary>
    int CountTokens(string text);

    /// <summary>
    /// Encodes two texts as one input (a cross-encoder's query and passage) with the post-processor's pair
    /// template, truncated to at most <paramref name="maxLength"/> tokens the way Hugging Face's default
    /// <c>longest_first</c> strategy does: the longer text gives up tokens first.
    /// </summary>
    TokenizedText EncodePair(string first, string second, int maxLength) =>
        throw new NotSupportedException($"{GetType().Name} cannot encode text pairs.");

    /// <summary>
    /// Encodes into caller buffers (ONNX input tensors are int64) and returns the token count, as
    /// <see cref="Encode"/> would. The buffers must hold min(maxLength, the text's token count) values.
    /// </summary>
    int EncodeInto(string text, int maxLength, Span<long> inputIds, Span<long> typeIds)
    {
        var encoded = Encode(text, maxLength);
        if (inputIds.Length < encoded.Length || typeIds.Length < encoded.Length)
        {
            throw new ArgumentException($"The buffers hold {Math.Min(inputIds.Length, typeIds.Length)} tokens; this text needs {encoded.Length}.");
        }

        for (int i = 0; i < encoded.Length; i++)
        {
            inputIds[i] = encoded.InputIds[i];
            typeIds[i] = encoded.TypeIds[i];
        }

        return encoded.Length;
    }
}
