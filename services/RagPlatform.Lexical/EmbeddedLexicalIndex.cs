using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;

namespace RagPlatform.Lexical;

/// <summary>
/// The embedded lexical index: per collection, in memory for search and persisted under
/// <c>&lt;data&gt;/lexical/&lt;collection&gt;/</c> as a checksummed append-only log folded into an atomically
/// replaced snapshot (see <see cref="LexicalCollection"/>). Many searches run at once; writes to one
/// collection take turns.
/// </summary>
public sealed class EmbeddedLexicalIndex : ILexicalIndex, IDisposable
{
    private readonly string _directory;
    private readonly LexicalOptions _options;
    private readonly KoreanLexicalTokenizer _tokenizer;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<LexicalCollection>> _collections = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    public EmbeddedLexicalIndex(string directory, LexicalOptions options, ILogger<EmbeddedLexicalIndex> logger)
    {
        _directory = directory;
        _options = options;
        _tokenizer = options.CreateTokenizer();
        _logger = logger;
    }

    public Task UpsertAsync(string collection, IReadOnlyList<LexicalChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count > 0)
        {
            // Tokenising is the costly part and needs no lock.
            var entries = chunks.Select(c => LexicalEntry.Create(c.Id, c.Payload, _tokenizer)).ToList();
            Write(collection, c => c.Upsert(entries));
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(string collection, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count > 0)
        {
            Write(collection, c => c.Delete(ids));
        }

        return Task.CompletedTask;
    }

    public Task DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        Write(collection, c => c.DeleteDocument(documentId));
        return Task.CompletedTask;
    }

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        if (_collections.TryRemove(collection, out var lazy))
        {
            lazy.Value.Drop();
        }
        else
        {
            var path = PathOf(collection);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(
        string collection, string query, int topK, VectorFilter? filter, CancellationToken cancellationToken)
    {
        var terms = LexicalAnalysis.WeighQueryTerms(_tokenizer.Tokenize(query), _options.K3);
        IReadOnlyList<VectorSearchHit> hits = terms.Count == 0 || topK < 1
            ? []
            : Get(collection).Search(terms, topK, filter is { IsEmpty: false } ? filter : null, _options.K1, _options.B);
        return Task.FromResult(hits);
    }

    /// <summary>Every term's postings as (chunk id, tf), sorted, and the collection's size: the whole scoring
    /// state, so two indexes that agree here score every query alike.</summary>
    public LexicalIndexState Inspect(string collection) => Get(collection).Inspect();

    /// <summary>Every chunk id the collection's index holds: to check it against the metadata store's chunk rows.</summary>
    public IReadOnlyList<string> ChunkIds(string collection) => Get(collection).Ids();

    public void Dispose()
    {
        // After this, no write may open a collection again (and create files behind a caller deleting them).
        _disposed = true;
        foreach (var lazy in _collections.Values.Where(l => l.IsValueCreated))
        {
            lazy.Value.Dispose();
        }
    }

    private void Write(string collection, Func<LexicalCollection, bool> write)
    {
        // A collection dropped while we held it refuses the write; the next Get opens a fresh one.
        while (!write(Get(collection)))
        {
        }
    }

    private LexicalCollection Get(string collection)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var lazy = _collections.GetOrAdd(collection, name => new Lazy<LexicalCollection>(
            () => LexicalCollection.Open(PathOf(name), _options, _tokenizer, _logger)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _collections.TryRemove(new KeyValuePair<string, Lazy<LexicalCollection>>(collection, lazy));
            throw;
        }
    }

    private string PathOf(string collection) => Path.Combine(_directory, collection);
}

/// <summary>See <see cref="EmbeddedLexicalIndex.Inspect"/>.</summary>
public sealed record LexicalIndexState(
    int Chunks,
    long TotalLength,
    IReadOnlyDictionary<string, IReadOnlyList<(string Id, int Tf)>> Postings);
