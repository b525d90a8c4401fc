namespace RagPlatform.Tokenizers;

/// <summary>
/// Per-thread working buffers for one encode at a time, so encoding allocates only the normalised text and the
/// result. Tokenizers are shared by every caller; each thread gets its own scratch.
/// </summary>
internal sealed class EncodeScratch
{
    [ThreadStatic]
    private static EncodeScratch? current;

    private char[] chars = new char[256];
    private double[] best = new double[256];
    private int[] from = new int[256];
    private int[] piece = new int[256];

    public static EncodeScratch Current => current ??= new EncodeScratch();

    public List<int> Ids { get; } = new(512);

    public List<Segment> Words { get; } = new(256);

    public List<int> Path { get; } = new(256);

    public List<(string Text, AddedToken? Token)> Sections { get; } = new(8);

    public List<(string Text, AddedToken? Token)> Subsections { get; } = new(8);

    public char[] Chars(int length)
    {
        if (chars.Length < length)
        {
            chars = new char[Math.Max(length, chars.Length * 2)];
        }

        return chars;
    }

    public (double[] Best, int[] From, int[] Piece) Lattice(int length)
    {
        if (best.Length < length)
        {
            int size = Math.Max(length, best.Length * 2);
            best = new double[size];
            from = new int[size];
            piece = new int[size];
        }

        return (best, from, piece);
    }
}
