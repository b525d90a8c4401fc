namespace RagPlatform.Tokenizers;

/// <summary>
/// Token string → id, looked up by span (no string per lookup). Added tokens override the model's entries, as
/// transformers.js does when it loads a tokenizer.json.
/// </summary>
internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> byspan;

    public Vocabulary(Dictionary<string, int> ids)
    {
        this.ids = ids;
        byspan = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        MaxTokenLength = ids.Count == 0 ? 0 : ids.Keys.Max(token => token.Length);
    }

    public int Count => ids.Count;

    /// <summary>The longest token in UTF-16 units: no lookup for a longer piece can succeed.</summary>
    public int MaxTokenLength { get; }

    public bool TryGetId(ReadOnlySpan<char> token, out int id) => byspan.TryGetValue(token, out id);

    public int? Find(string? token) => token is not null && ids.TryGetValue(token, out int id) ? id : null;
}
