namespace RagPlatform.Core.Collections;

/// <summary>
/// The embedded <see cref="IDocumentLocks"/>: serialises work on the same document within a process (the worker bringing it to a revision, a
/// delete), so two revisions never interleave their diff-and-write. Striped: bounded memory, and
/// several documents are locked in stripe order so two batches cannot deadlock.
/// </summary>
public sealed class DocumentLocks : IDocumentLocks
{
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 1024).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public async Task<IAsyncDisposable> AcquireAsync(string collection, IEnumerable<string> documentIds, CancellationToken cancellationToken)
    {
        var stripes = documentIds.Select(id => Stripe(collection, id)).Distinct().Order().ToArray();
        var taken = new List<SemaphoreSlim>(stripes.Length);
        try
        {
            foreach (var stripe in stripes)
            {
                await _stripes[stripe].WaitAsync(cancellationToken);
                taken.Add(_stripes[stripe]);
            }
        }
        catch
        {
            Release(taken);
            throw;
        }

        return new Releaser(taken);
    }

    private int Stripe(string collection, string documentId) =>
        (int)((uint)HashCode.Combine(StringComparer.Ordinal.GetHashCode(collection), StringComparer.Ordinal.GetHashCode(documentId)) % (uint)_stripes.Length);

    private static void Release(List<SemaphoreSlim> taken)
    {
        for (var i = taken.Count - 1; i >= 0; i--)
        {
            taken[i].Release();
        }
    }

    private sealed class Releaser(List<SemaphoreSlim> taken) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Release(taken);
            }

            return ValueTask.CompletedTask;
        }
    }
}
