using System.Runtime.CompilerServices;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// Keeps the k best (score, slot) pairs seen so far in a bounded min-heap whose root is the worst kept one.
/// Order is total: higher score first, then ordinal id, so equal scores rank the same on every run,
/// whatever slot or partition a point landed in.
/// </summary>
internal sealed class TopKCollector
{
    private readonly float[] _scores;
    private readonly int[] _slots;
    private readonly StoredPoint?[] _points;
    private int _count;

    public TopKCollector(int k, StoredPoint?[] points)
    {
        _scores = new float[k];
        _slots = new int[k];
        _points = points;
    }

    public int Count => _count;

    /// <summary>How many pairs it keeps at most (k).</summary>
    public int Capacity => _scores.Length;

    /// <summary>
    /// A score below this cannot be kept: the worst kept score once the heap is full, else minus infinity.
    /// Checking <c>score &lt; Threshold</c> before <see cref="Offer"/> skips exactly what Offer would skip.
    /// </summary>
    public float Threshold => _count == _scores.Length ? _scores[0] : float.NegativeInfinity;

    /// <summary>Considers one candidate. The common case (worse than everything kept) costs one comparison.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Offer(float score, int slot)
    {
        if (_count == _scores.Length && score < _scores[0])
        {
            return;
        }

        OfferSlow(score, slot);
    }

    /// <summary>Moves everything another collector kept into this one (merging partitions).</summary>
    public void OfferAll(TopKCollector other)
    {
        for (var i = 0; i < other._count; i++)
        {
            Offer(other._scores[i], other._slots[i]);
        }
    }

    /// <summary>Empties the heap, best first.</summary>
    public (float Score, int Slot)[] DrainBestFirst()
    {
        var result = new (float Score, int Slot)[_count];
        for (var i = _count - 1; i >= 0; i--)
        {
            result[i] = (_scores[0], _slots[0]);
            _count--;
            if (_count > 0)
            {
                _scores[0] = _scores[_count];
                _slots[0] = _slots[_count];
                SiftDown(0);
            }
        }

        return result;
    }

    private void OfferSlow(float score, int slot)
    {
        if (_count < _scores.Length)
        {
            _scores[_count] = score;
            _slots[_count] = slot;
            SiftUp(_count++);
            return;
        }

        if (!IsWorse(_scores[0], _slots[0], score, slot))
        {
            return;
        }

        _scores[0] = score;
        _slots[0] = slot;
        SiftDown(0);
    }

    private bool IsWorse(float scoreA, int slotA, float scoreB, int slotB)
    {
        // CompareTo orders NaN (an overflowed dot product) below every number, so it is never kept over one.
        var byScore = scoreA.CompareTo(scoreB);
        if (byScore != 0)
        {
            return byScore < 0;
        }

        return string.CompareOrdinal(_points[slotA]!.Id, _points[slotB]!.Id) > 0;
    }

    private void SiftUp(int index)
    {
        while (index > 0)
        {
            var parent = (index - 1) / 2;
            if (!IsWorse(_scores[index], _slots[index], _scores[parent], _slots[parent]))
            {
                return;
            }

            Swap(index, parent);
            index = parent;
        }
    }

    private void SiftDown(int index)
    {
        while (true)
        {
            var left = (2 * index) + 1;
            if (left >= _count)
            {
                return;
            }

            var worst = left;
            var right = left + 1;
            if (right < _count && IsWorse(_scores[right], _slots[right], _scores[left], _slots[left]))
            {
                worst = right;
            }

            if (!IsWorse(_scores[worst], _slots[worst], _scores[index], _slots[index]))
            {
                return;
            }

            Swap(index, worst);
            index = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_slots[a], _slots[b]) = (_slots[b], _slots[a]);
    }
}

/// <summary>The k-th largest of the values offered so far (minus infinity until k have been offered): a bounded min-heap of floats.</summary>
internal sealed class KthLargest(int k)
{
    private readonly float[] _heap = new float[k];
    private int _count;

    /// <summary>A value must exceed this to change the k-th largest; minus infinity until the heap is full.</summary>
    public float Floor => _count == _heap.Length ? _heap[0] : float.NegativeInfinity;

    /// <summary>Adds a value greater than <see cref="Floor"/> (the caller checks, which also keeps NaN out).</summary>
    public void Add(float value)
    {
        if (_count < _heap.Length)
        {
            var index = _count++;
            while (index > 0)
            {
                var parent = (index - 1) / 2;
                if (_heap[parent] <= value)
                {
                    break;
                }

                _heap[index] = _heap[parent];
                index = parent;
            }

            _heap[index] = value;
            return;
        }

        var at = 0;
        while (true)
        {
            var child = (2 * at) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _heap[child + 1] < _heap[child])
            {
                child++;
            }

            if (_heap[child] >= value)
            {
                break;
            }

            _heap[at] = _heap[child];
            at = child;
        }

        _heap[at] = value;
    }
}
