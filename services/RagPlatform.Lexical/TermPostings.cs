namespace RagPlatform.Lexical;

/// <summary>
/// One term's postings in a collection: parallel arrays of chunk slots and term frequencies, appended to
/// and never edited in place. A removed chunk's postings stay behind until the list is compacted; they are
/// recognised by their slot, which is emptied and not reused before the collection renumbers its slots.
/// Appending to two arrays instead of a <c>Dictionary&lt;int,int&gt;</c> per term took most of the cost
/// out of indexing a chunk (a hundred distinct terms each).
/// </summary>
internal sealed class TermPostings
{
    private int[] _slots = new int[4];
    private int[] _frequencies = new int[4];

    /// <summary>Postings held, live and removed.</summary>
    public int Count { get; private set; }

    /// <summary>Chunks that contain the term: the document frequency BM25 weighs it by.</summary>
    public int Live { get; private set; }

    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Count);

    public ReadOnlySpan<int> Frequencies => _frequencies.AsSpan(0, Count);

    public void Add(int slot, int frequency)
    {
        if (Count == _slots.Length)
        {
            Array.Resize(ref _slots, Count * 2);
            Array.Resize(ref _frequencies, Count * 2);
        }

        _slots[Count] = slot;
        _frequencies[Count] = frequency;
        Count++;
        Live++;
    }

    /// <summary>Counts one posting as removed; returns true when the removed ones now outnumber the live.</summary>
    public bool MarkRemoved()
    {
        Live--;
        return Count - Live > Live + 8;
    }

    /// <summary>Drops the postings whose slot <paramref name="isLive"/> says is empty.</summary>
    public void Compact(Func<int, bool> isLive)
    {
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            if (isLive(_slots[i]))
            {
                _slots[kept] = _slots[i];
                _frequencies[kept] = _frequencies[i];
                kept++;
            }
        }

        Count = kept;
    }

    /// <summary>Empties the list for a renumbering that adds every live posting again.</summary>
    public void Clear()
    {
        Count = 0;
        Live = 0;
    }
}
