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

    /// <summary>Encodes one text, special tokens included, truncated to at most <paramref name="maxLength"/> tokens.</summary>
    TokenizedText Encode(string text, int maxLength);

    /// <summary>How many tokens the text takes without truncation, special tokens included.</summary>
    int CountTokens(string text);
}
