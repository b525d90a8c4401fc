namespace RagPlatform.Tokenizers;

/// <summary>
/// SentencePiece Unigram: the Viterbi best path over every segmentation into vocabulary pieces (sum of piece
/// scores). A position no single-character piece covers gets the unknown piece (score: lowest score − 10);
/// consecutive unknown pieces fuse into one. Ties go to the piece that starts first (the longer one), as in
/// transformers.js. With byte_fallback, an unknown character becomes its UTF-8 byte pieces ("&lt;0xE2&gt;"…) when
/// the vocabulary has them all (Hugging Face tokenizers' rule; transformers.js has no byte fallback).
/// </summary>
internal sealed class UnigramModel : TokenizerModel
{
    private readonly PieceTrie trie;
    private readonly double[] scores;
    private readonly int unknownId;
    private readonly double unknownScore;
    private readonly int[]? byteIds;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> pieces, Vocabulary vocabulary, int unknownId, bool byteFallback)
    {
        this.unknownId = unknownId;
        scores = new double[Math.Max(pieces.Count, vocabulary.Count)];
        double min = double.MaxValue;
        for (int i = 0; i < pieces.Count; i++)
        {
            scores[i] = pieces[i].Score;
            min = Math.Min(min, pieces[i].Score);
        }

        unknownScore = (pieces.Count == 0 ? 0 : min) - 10;
        if (unknownId >= 0 && unknownId < scores.Length)
        {
            scores[unknownId] = unknownScore;
        }

        // Each distinct piece maps to the id the vocabulary (added tokens included) gives its string.
        var entries = new List<(string, int)>(pieces.Count);
        foreach (var (piece, _) in pieces)
        {
            if (vocabulary.TryGetId(piece, out int id))
            {
                entries.Add((piece, id));
            }
        }

        trie = new PieceTrie(entries);
        if (byteFallback)
        {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                if (!vocabulary.TryGetId($"<0x{b:X2}>", out byteIds[b]))
                {
                    byteIds = null;
                    break;
                }
            }
        }
    }

    public override void Encode(List<Segment> words, List<int> ids, EncodeScratch scratch)
    {
        bool lastWasUnknown = false;
        foreach (var word in words)
        {
            EncodeWord(word.Span, ids, scratch, ref lastWasUnknown);
        }
    }

    private void EncodeWord(ReadOnlySpan<char> text, List<int> ids, EncodeScratch scratch, ref bool lastWasUnknown)
    {
        int n = text.Length;
        if (n == 0)
        {
            return;
        }

        var (best, from, piece) = scratch.Lattice(n + 1);
        for (int i = 1; i <= n; i++)
        {
            from[i] = -1;
        }

        best[0] = 0;
        for (int begin = 0; begin < n; begin++)
        {
            if (from[begin] < 0 && begin > 0)
            {
                continue; // inside a surrogate pair: no path starts here
            }

            TextRules.CodePointAt(text, begin, out int charWidth);
            bool singleCharPiece = false;
            int node = PieceTrie.Root;
            for (int end = begin; end < n;)
            {
                node = trie.Child(node, text[end]);
                if (node < 0)
                {
                    break;
                }

                end++;
                int id = trie.Value(node);
                if (id >= 0 && (end == n || !char.IsLowSurrogate(text[end]) || !char.IsHighSurrogate(text[end - 1])))
                {
                    Relax(best, from, piece, begin, end, id < scores.Length ? scores[id] : 0, id);
                    singleCharPiece |= end - begin == charWidth;
                }
            }

            if (!singleCharPiece)
            {
                Relax(best, from, piece, begin, begin + charWidth, unknownScore, unknownId);
            }
        }

        // Walk back from the end, then emit in order.
        var path = scratch.Path;
        path.Clear();
        for (int end = n; end > 0; end = from[end])
        {
            path.Add(end);
        }

        for (int k = path.Count - 1; k >= 0; k--)
        {
            int end = path[k];
            int id = piece[end];
            if (id == unknownId)
            {
                int begin = from[end];
                if (byteIds is not null)
                {
                    AppendBytes(text[begin..end], ids);
                    lastWasUnknown = false;
                    continue;
                }

                if (lastWasUnknown)
                {
                    continue;
                }

                lastWasUnknown = true;
            }
            else
            {
                lastWasUnknown = false;
            }

            ids.Add(id);
        }
    }

    // The first candidate for an end position wins ties: candidates arrive in order of their start, earliest first.
    private static void Relax(double[] best, int[] from, int[] piece, int begin, int end, double score, int id)
    {
        double candidate = best[begin] + score;
        if (from[end] < 0 || candidate > best[end])
        {
            best[end] = candidate;
            from[end] = begin;
            piece[end] = id;
        }
    }

    private void AppendBytes(ReadOnlySpan<char> character, List<int> ids)
    {
        Span<byte> utf8 = stackalloc byte[8];
        int count = System.Text.Encoding.UTF8.GetBytes(character, utf8);
        for (int i = 0; i < count; i++)
        {
            ids.Add(byteIds![utf8[i]]);
        }
    }
}

/// <summary>A character trie over the vocabulary pieces, stored as flat sorted child arrays (compact for 250k pieces).</summary>
internal sealed class PieceTrie
{
    public const int Root = 0;
    private readonly List<int> firstChild = [];
    private readonly List<int> childCount = [];
    private readonly List<int> values = [];
    private readonly List<char> childChars = [];
    private readonly List<int> childNodes = [];
    private readonly int[] nodeFirstChild;
    private readonly int[] nodeChildCount;
    private readonly int[] nodeValue;
    private readonly char[] labels;
    private readonly int[] targets;

    public PieceTrie(List<(string Piece, int Id)> entries)
    {
        entries.Sort((a, b) => string.CompareOrdinal(a.Piece, b.Piece));
        NewNode();
        Build(entries, 0, entries.Count, 0, Root);
        nodeFirstChild = [.. firstChild];
        nodeChildCount = [.. childCount];
        nodeValue = [.. values];
        labels = [.. childChars];
        targets = [.. childNodes];
    }

    public int Value(int node) => nodeValue[node];

    public int Child(int node, char c)
    {
        int lo = nodeFirstChild[node];
        int hi = lo + nodeChildCount[node] - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            char label = labels[mid];
            if (label == c)
            {
                return targets[mid];
            }

            if (label < c)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    private int NewNode()
    {
        firstChild.Add(0);
        childCount.Add(0);
        values.Add(-1);
        return values.Count - 1;
    }

    // entries[lo..hi) share their first `depth` characters and are sorted; the node stands for that prefix.
    private void Build(List<(string Piece, int Id)> entries, int lo, int hi, int depth, int node)
    {
        while (lo < hi && entries[lo].Piece.Length == depth)
        {
            values[node] = entries[lo].Id; // the vocabulary's id for this string (duplicates agree)
            lo++;
        }

        var groups = new List<(char Label, int Lo, int Hi)>();
        for (int i = lo; i < hi;)
        {
            char label = entries[i].Piece[depth];
            int j = i + 1;
            while (j < hi && entries[j].Piece[depth] == label)
            {
                j++;
            }

            groups.Add((label, i, j));
            i = j;
        }

        firstChild[node] = childChars.Count;
        childCount[node] = groups.Count;
        var children = new int[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            children[g] = NewNode();
            childChars.Add(groups[g].Label);
            childNodes.Add(children[g]);
        }

        for (int g = 0; g < groups.Count; g++)
        {
            Build(entries, groups[g].Lo, groups[g].Hi, depth + 1, children[g]);
        }
    }
}
