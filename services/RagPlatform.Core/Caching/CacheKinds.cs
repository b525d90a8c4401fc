namespace RagPlatform.Core.Caching;

/// <summary>
/// What a cache entry is, named by its key's prefix (the part before the first ':'), so every tier can count
/// hits and misses per kind without being told.
/// </summary>
public static class CacheKinds
{
    /// <summary>A document chunk's embedding: <c>emb:{sha256(fingerprint)}:{sha256(text)}</c>.</summary>
    public const string Embedding = "embedding";

    /// <summary>A query's embedding: <c>qemb:{sha256(fingerprint)}:{sha256(text)}</c>.</summary>
    public const string QueryEmbedding = "query-embedding";

    /// <summary>A search's results: <c>search:{sha256(collection, version, fingerprint, mode, strategy, k, query, filters)}</c>.</summary>
    public const string SearchResult = "search-result";

    /// <summary>A collection record (settings, fingerprint, version): <c>meta:{collection}</c>.</summary>
    public const string DocumentMetadata = "document-metadata";

    public const string Other = "other";

    public const string EmbeddingPrefix = "emb:";
    public const string QueryEmbeddingPrefix = "qemb:";
    public const string SearchResultPrefix = "search:";
    public const string DocumentMetadataPrefix = "meta:";

    public static string Of(string key)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? Other : key.AsSpan(0, colon + 1) switch
        {
            EmbeddingPrefix => Embedding,
            QueryEmbeddingPrefix => QueryEmbedding,
            SearchResultPrefix => SearchResult,
            DocumentMetadataPrefix => DocumentMetadata,
            _ => Other,
        };
    }
}
