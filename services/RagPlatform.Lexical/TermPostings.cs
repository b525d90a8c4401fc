namespace RagPlatform.Lexical;

/// <summary>
/// One term's postings in a collection: parallel arrays of chunk slots and term frequencies, appended to
/// and never edited in place. A removed chunk's postings stay behind until the list is compacted; they are
/// recognised by their slot, which is emptied and not reused before the collection renumbers its slots.
/// Appending to two arrays instead of a <c>Dictionary&lt;int,int&gt;</c> per term took most of the cost
/// out of indexing a chunk (a hundred distinct terms each).
/// </summary>
/// <remarks>
/// A list longer than one block also keeps, per block of <see cref="BlockSize"/> postings, the greatest frequency
/// and the least chunk length in it: BM25 of a term grows with the frequency and falls with the length, so the
/// pair bounds every score the block can give under any k1, b and average length, which is what lets a search
/// skip the blocks that cannot reach its top k (<see cref="Bm25TopK"/>). Removed postings stay in the bounds
/// until the list is compacted: a bound may be loose, never too low. A short list has no blocks: its whole
/// bound is computed from its few postings when a query needs it.
/// </remarks>
internal sealed class TermPostings
{
    public const int BlockSize = 128;

    private int[] _slots = new int[4];
    private int[] _frequencies = new int[4];
    // Pairs (greatest frequency, least length) per block; null while the list fits in one block.
    private int[]? _blocks;

    /// <summary>Postings held, live and removed.</summary>
    public int Count { get; private set; }

    /// <summary>Chunks that contain the term: the document frequency BM25 weighs it by.</summary>
    public int Live { get; private set; }

    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Count);

    public ReadOnlySpan<int> Frequencies => _frequencies.AsSpan(0, Count);

    /// <summary>True when the list keeps per-block bounds (it is longer than one block).</summary>
    public bool HasBlocks => _blocks is not null;

    /// <summary>The greatest frequency among the postings of <paramref name="block"/>.</summary>
    public int BlockMaxFrequency(int block) => _blocks![2 * block];

    /// <summary>The least length among the chunks of <paramref name="block"/> (removed ones included until compacted).</summary>
    public int BlockMinLength(int block) => _blocks![(2 * block) + 1];

    /// <param name="slot">The chunk's slot, greater than every slot in the list.</param>
    /// <param name="frequency">The term's count in the chunk.</param>
    /// <param name="length">The chunk's length in terms.</param>
    /// <param name="lengths">Every slot's length (-1: empty), to bound the first block when the list outgrows it.</param>
    public void Add(int slot, int frequency, int length, ReadOnlySpan<int> lengths)
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
        if (_blocks is not null)
        {
            Include(Count - 1, frequency, length);
        }
        else if (Count > BlockSize)
        {
            RebuildBlocks(lengths);
        }
    }

    /// <summary>Counts one posting as removed; returns true when the removed ones now outnumber the live.</summary>
    public bool MarkRemoved()
    {
        Live--;
        return Count - Live > Live + 8;
    }

    /// <summary>Drops the postings whose slot is empty (a negative length in <paramref name="lengths"/>).</summary>
    public void Compact(ReadOnlySpan<int> lengths)
    {
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            if (lengths[_slots[i]] >= 0)
            {
                _slots[kept] = _slots[i];
                _frequencies[kept] = _frequencies[i];
                kept++;
            }
        }

        Count = kept;
        RebuildBlocks(lengths);
    }

    /// <summary>
    /// Moves the list to the collection's new slot numbers (<paramref name="newSlots"/>: old slot → new slot, -1
    /// for an empty one), dropping the removed postings, and gives back the spare capacity: a renumbering touches
    /// every list anyway. The map keeps slot order, so the list stays sorted by slot as appends made it.
    /// </summary>
    /// <param name="newSlots">Old slot → new slot.</param>
    /// <param name="lengths">The lengths by new slot.</param>
    public void Renumber(ReadOnlySpan<int> newSlots, ReadOnlySpan<int> lengths)
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
        RebuildBlocks(lengths);
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

        var blocks = 2 * BlockCount(Count);
        if (_blocks is not null && _blocks.Length > blocks)
        {
            Array.Resize(ref _blocks, blocks);
        }
    }

    private static int BlockCount(int postings) => (postings + BlockSize - 1) / BlockSize;

    private void RebuildBlocks(ReadOnlySpan<int> lengths)
    {
        if (Count <= BlockSize)
        {
            _blocks = null;
            return;
        }

        _blocks = new int[2 * Math.Max(BlockCount(Count), BlockCount(_slots.Length))];
        for (var i = 0; i < Count; i++)
        {
            // A removed posting (empty slot) is never scored, so it need not widen the bound.
            var length = lengths[_slots[i]];
            if (length >= 0)
            {
                Include(i, _frequencies[i], length);
            }
            else if (i % BlockSize == 0)
            {
                Include(i, 0, int.MaxValue);
            }
        }
    }

    private void Include(int posting, int frequency, int length)
    {
        var at = 2 * (posting / BlockSize);
        if (at >= _blocks!.Length)
        {
            Array.Resize(ref _blocks, Math.Max(at + 2, _blocks.Length * 2));
        }

        if (posting % BlockSize == 0)
        {
            _blocks[at] = frequency;
            _blocks[at + 1] = length;
        }
        else
        {
            _blocks[at] = Math.Max(_blocks[at], frequency);
            _blocks[at + 1] = Math.Min(_blocks[at + 1], length);
        }
    }
}
