using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using RagPlatform.Sdk;

namespace RagPlatform.Lexical;

/// <summary>
/// The top k chunks of a collection by BM25, exactly those an exhaustive scoring of every posting would rank
/// first, found without scoring most postings of the common terms (block-max MaxScore, as in Lucene and PISA).
/// </summary>
/// <remarks>
/// <para>
/// Slots are taken in windows of <see cref="WindowSize"/>. In each window every term gets an upper bound from the
/// blocks of its postings that fall in it (<see cref="TermPostings.BlockMaxFrequency"/>,
/// <see cref="TermPostings.BlockMinLength"/>). Ordered by bound, the weakest terms whose bounds add up to less than
/// the k-th best score so far cannot put a chunk in the top k on their own: they are non-essential, and their
/// postings are read only for a chunk the essential terms have already made a contender, and only while its
/// score plus their remaining bounds can still reach the k-th score. A window where all bounds together fall
/// short is skipped whole. A short, common query over a million chunks scores a fraction of its postings this
/// way (the common terms' lists are the long ones, and the ones that become non-essential).
/// </para>
/// <para>
/// The score a chunk is ranked by is always summed over the query's terms in query order, the same sum for the
/// same chunk and query however the index was built: a bound only decides whether that sum is computed.
/// Bounds are compared with a small margin, so rounding cannot drop a chunk whose exact score ties the k-th.
/// </para>
/// </remarks>
internal readonly ref struct Bm25TopK
{
    /// <summary>Slots per window: small enough that the bounds stay tight, large enough to amortise the per-window
    /// work of every term.</summary>
    public const int WindowSize = 4096;

    // A bound is trusted only when it is short of the k-th score by more than rounding could account for.
    private const double Margin = 1e-9;
    // Lengths up to here get their normalisation from a table made per query; longer chunks compute it.
    private const int NormTableSize = 4096;

    private readonly ReadOnlySpan<int> _lengths;
    private readonly double _k1;
    private readonly double _b;
    private readonly double _averageLength;
    private readonly double[] _norms;

    public Bm25TopK(ReadOnlySpan<int> lengths, double k1, double b, double averageLength)
    {
        _lengths = lengths;
        _k1 = k1;
        _b = b;
        _averageLength = averageLength;
        _norms = ArrayPool<double>.Shared.Rent(NormTableSize);
        for (var length = 0; length < NormTableSize; length++)
        {
            _norms[length] = Norm(length);
        }
    }

    /// <summary>Returns the rented table; the struct is done with.</summary>
    public void Dispose() => ArrayPool<double>.Shared.Return(_norms);

    /// <summary>
    /// The best <paramref name="topK"/> slots among those <paramref name="admit"/> accepts, best first: score
    /// descending, then <paramref name="order"/> (the chunk id) ascending.
    /// </summary>
    /// <param name="terms">Each distinct query term's postings and weight (query-term weight × idf × (k1 + 1)), in query order.</param>
    /// <param name="slotCount">Slots in the collection (an upper bound of every posting's slot).</param>
    /// <param name="topK">How many to return.</param>
    /// <param name="order">A slot's tie-break key (its chunk id).</param>
    /// <param name="admit">Whether a slot may be returned (the search filter).</param>
    public List<(int Slot, double Score)> Search(
        ReadOnlySpan<(TermPostings Postings, double Weight)> terms, int slotCount, int topK,
        Func<int, string> order, Func<int, bool>? admit)
    {
        var count = terms.Length;
        var cursors = new int[count];
        var ends = new int[count];
        var bounds = new double[count];
        var byBound = new int[count];
        // A list too short for blocks gets one bound for the whole query: the best of its few postings.
        var wholeBounds = new double[count];
        for (var t = 0; t < count; t++)
        {
            var (postings, weight) = terms[t];
            if (!postings.HasBlocks)
            {
                var best = 0.0;
                var slots = postings.Slots;
                var frequencies = postings.Frequencies;
                for (var p = 0; p < slots.Length; p++)
                {
                    var length = _lengths[slots[p]];
                    if (length >= 0)
                    {
                        best = Math.Max(best, Score(weight, frequencies[p], length));
                    }
                }

                wholeBounds[t] = best;
            }
        }

        var heap = new PriorityQueue<int, (double Score, string Id)>(topK + 1, WorstFirst.Instance);
        var accumulated = ArrayPool<double>.Shared.Rent(WindowSize);
        try
        {
            Array.Clear(accumulated, 0, WindowSize);
            for (var start = 0; start < slotCount; start += WindowSize)
            {
                var end = Math.Min(slotCount, start + WindowSize);
                var threshold = heap.Count == topK && heap.TryPeek(out _, out var worst) ? worst.Score : 0.0;

                // Each term's postings in this window, and the most they can add to a chunk's score here.
                var total = 0.0;
                var present = 0;
                for (var t = 0; t < count; t++)
                {
                    var postings = terms[t].Postings;
                    ends[t] = FirstAtOrAfter(postings.Slots, cursors[t], end);
                    bounds[t] = ends[t] == cursors[t] ? 0.0 : WindowBound(postings, terms[t].Weight, cursors[t], ends[t], wholeBounds[t]);
                    if (bounds[t] > 0)
                    {
                        byBound[present++] = t;
                        total += bounds[t];
                    }
                }

                if (present > 0 && !Below(total, threshold))
                {
                    ScoreWindow(terms, start, end, byBound.AsSpan(0, present), cursors, ends, bounds, accumulated, threshold, heap, topK, order, admit);
                }

                ends.AsSpan().CopyTo(cursors);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(accumulated);
        }

        var top = new List<(int Slot, double Score)>(heap.Count);
        while (heap.TryDequeue(out var slot, out var priority))
        {
            top.Add((slot, priority.Score));
        }

        top.Reverse();
        return top;
    }

    /// <summary>
    /// Scores one window: the essential terms' postings into <paramref name="accumulated"/>, then each contender in
    /// slot order, reading the non-essential terms while its bound can still reach the k-th score. Leaves
    /// <paramref name="accumulated"/> cleared.
    /// </summary>
    private void ScoreWindow(
        ReadOnlySpan<(TermPostings Postings, double Weight)> terms, int start, int end, Span<int> byBound,
        int[] cursors, int[] ends, double[] bounds, double[] accumulated, double threshold,
        PriorityQueue<int, (double Score, string Id)> heap, int topK, Func<int, string> order, Func<int, bool>? admit)
    {
        // Weakest first; the non-essential terms are the longest prefix whose bounds add up to less than the k-th score.
        for (var i = 1; i < byBound.Length; i++)
        {
            var t = byBound[i];
            var j = i - 1;
            for (; j >= 0 && bounds[byBound[j]] > bounds[t]; j--)
            {
                byBound[j + 1] = byBound[j];
            }

            byBound[j + 1] = t;
        }

        var nonEssential = 0;
        var nonEssentialBound = 0.0;
        while (nonEssential < byBound.Length && Below(nonEssentialBound + bounds[byBound[nonEssential]], threshold))
        {
            nonEssentialBound += bounds[byBound[nonEssential++]];
        }

        // Which offsets hold a partial score, a bit each: the contenders are visited in slot order without reading
        // the whole window of sums.
        Span<ulong> touched = stackalloc ulong[WindowSize / 64];
        for (var e = nonEssential; e < byBound.Length; e++)
        {
            var t = byBound[e];
            var (postings, weight) = terms[t];
            var slots = postings.Slots;
            var frequencies = postings.Frequencies;
            for (var p = cursors[t]; p < ends[t]; p++)
            {
                var slot = slots[p];
                var length = _lengths[slot];
                if (length >= 0)
                {
                    var offset = slot - start;
                    accumulated[offset] += Score(weight, frequencies[p], length);
                    touched[offset >> 6] |= 1UL << offset;
                }
            }
        }

        // Non-essential cursors walk forward with the contenders, strongest term first.
        Span<int> probes = stackalloc int[nonEssential];
        for (var i = 0; i < nonEssential; i++)
        {
            probes[i] = cursors[byBound[nonEssential - 1 - i]];
        }

        for (var word = 0; word < touched.Length; word++)
        {
            for (var bits = touched[word]; bits != 0; bits &= bits - 1)
            {
                var offset = (word << 6) + BitOperations.TrailingZeroCount(bits);
                var partial = accumulated[offset];
                accumulated[offset] = 0;
                var slot = start + offset;
                if (Contends(terms, slot, partial, byBound[..nonEssential], probes, ends, bounds, nonEssentialBound, threshold))
                {
                    threshold = Offer(ExactScore(terms, slot, cursors, ends), slot, heap, topK, order, admit, threshold);
                }
            }
        }
    }

    /// <summary>
    /// Whether a chunk with <paramref name="partial"/> from the essential terms can still reach the k-th score: the
    /// non-essential terms (weakest first in <paramref name="nonEssential"/>) are read strongest first, each replacing
    /// its bound by what it adds, until the sum falls short or every term is read.
    /// </summary>
    private bool Contends(
        ReadOnlySpan<(TermPostings Postings, double Weight)> terms, int slot, double partial, ReadOnlySpan<int> nonEssential,
        Span<int> probes, int[] ends, double[] bounds, double remaining, double threshold)
    {
        if (Below(partial + remaining, threshold))
        {
            return false;
        }

        for (var i = 0; i < nonEssential.Length; i++)
        {
            var t = nonEssential[nonEssential.Length - 1 - i];
            var slots = terms[t].Postings.Slots;
            var p = probes[i];
            while (p < ends[t] && slots[p] < slot)
            {
                p++;
            }

            probes[i] = p;
            remaining -= bounds[t];
            if (p < ends[t] && slots[p] == slot)
            {
                partial += Score(terms[t].Weight, terms[t].Postings.Frequencies[p], _lengths[slot]);
            }

            if (Below(partial + remaining, threshold))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Offers a chunk's exact score to the top k; returns the k-th score after it (0 until k are held).</summary>
    private static double Offer(
        double score, int slot, PriorityQueue<int, (double Score, string Id)> heap, int topK,
        Func<int, string> order, Func<int, bool>? admit, double threshold)
    {
        if (heap.Count == topK && heap.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare((score, order(slot)), worst) <= 0)
        {
            return threshold;
        }

        if (admit is not null && !admit(slot))
        {
            return threshold;
        }

        heap.Enqueue(slot, (score, order(slot)));
        if (heap.Count > topK)
        {
            heap.Dequeue();
        }

        return heap.Count == topK && heap.TryPeek(out _, out worst) ? worst.Score : threshold;
    }

    /// <summary>The chunk's BM25 over every query term, in query order, each term's posting found by binary search
    /// within the window.</summary>
    private double ExactScore(ReadOnlySpan<(TermPostings Postings, double Weight)> terms, int slot, int[] cursors, int[] ends)
    {
        var length = _lengths[slot];
        var score = 0.0;
        for (var t = 0; t < terms.Length; t++)
        {
            var (postings, weight) = terms[t];
            var at = postings.Slots[cursors[t]..ends[t]].BinarySearch(slot);
            if (at >= 0)
            {
                score += Score(weight, postings.Frequencies[cursors[t] + at], length);
            }
        }

        return score;
    }

    /// <summary>The most the postings [<paramref name="from"/>, <paramref name="to"/>) can add to a chunk's score:
    /// the best bound among the blocks they fall in.</summary>
    private double WindowBound(TermPostings postings, double weight, int from, int to, double wholeBound)
    {
        if (!postings.HasBlocks)
        {
            return wholeBound;
        }

        var bound = 0.0;
        for (int block = from / TermPostings.BlockSize, last = (to - 1) / TermPostings.BlockSize; block <= last; block++)
        {
            var frequency = postings.BlockMaxFrequency(block);
            if (frequency > 0)
            {
                bound = Math.Max(bound, Score(weight, frequency, postings.BlockMinLength(block)));
            }
        }

        return bound;
    }

    /// <summary>The first posting at or after <paramref name="from"/> whose slot is <paramref name="slot"/> or later.</summary>
    private static int FirstAtOrAfter(ReadOnlySpan<int> slots, int from, int slot)
    {
        if (from >= slots.Length || slots[from] >= slot)
        {
            return from;
        }

        if (slots[^1] < slot)
        {
            return slots.Length;
        }

        var at = slots[from..].BinarySearch(slot);
        return from + (at >= 0 ? at : ~at);
    }

    private static bool Below(double bound, double threshold) => bound * (1 + Margin) < threshold;

    /// <summary>One term's BM25 in a chunk: weight × tf / (tf + k1 × (1 − b + b × length / average)).</summary>
    private double Score(double weight, int frequency, int length) =>
        weight * frequency / (frequency + ((uint)length < NormTableSize ? _norms[length] : Norm(length)));

    private double Norm(int length) => _k1 * (1 - _b + (_b * length / _averageLength));

    /// <summary>Orders the heap worst first: lower score, then the later id.</summary>
    private sealed class WorstFirst : IComparer<(double Score, string Id)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((double Score, string Id) x, (double Score, string Id) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(y.Id, x.Id);
        }
    }
}
