namespace RagPlatform.Tokenizers;

public static class TokenizerFile
{
    /// <summary>Reads a tokenizer.json (WordPiece or Unigram model) into a tokenizer.</summary>
    public static ITextTokenizer Load(string path) =>
        throw new NotImplementedException("The tokenizer.json reader is being written (issue 4).");
}
