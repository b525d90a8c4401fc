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
            Array.Resize(ref _slots, Math.Max(4, Count * 2));
            Array.Resize(ref _frequencies, Math.Max(4, Count * 2));
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

    /// <summary>
    /// Moves the list to the collection's new slot numbers (<paramref name="newSlots"/>: old slot → new slot, -1
    /// for an empty one), dropping the removed postings, and gives back the spare capacity: a renumbering touches
    /// every list anyway. The map keeps slot order, so the list stays sorted by slot as appends made it.
    /// </summary>
    public void Renumber(ReadOnlySpan<int> newSlots)
    {
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            var slot = newSlots[_slots[i]];
            if (slot >= 0)
            {
                _slots[kept] = slot;
                _frequencies[kept] = _frequencies[i];
                kept++;
            }
        }

        Count = kept;
        TrimExcess();
    }

    /// <summary>Shrinks the arrays to the postings held, when that saves anything.</summary>
    public void TrimExcess()
    {
        if (_slots.Length > Count)
        {
            var size = Math.Max(1, Count);
            Array.Resize(ref _slots, size);
            Array.Resize(ref _frequencies, size);
        }
    }
}
