using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RagPlatform.Cli.Bench;

/// <summary>How the generated unit vectors are spread.</summary>
public enum BenchVectorData
{
    /// <summary>Near a random low-dimensional subspace plus noise: how text embeddings spread (their intrinsic dimension is far below D).</summary>
    LowRank,

    /// <summary>Isotropic (uniform on the sphere): every point about equally far from every other, a graph index's worst case.</summary>
    Uniform,
}

/// <summary>
/// The vectors of <c>rag bench query --backend</c>: base points, queries drawn from the same distribution, and each
/// query's exact top 10 found by a plain scan here (independent of both engines measured, which are judged against
/// the same answers). Deterministic for a seed. Row i of the base is the point with id "i".
/// </summary>
public sealed class BenchVectorSet
{
    public const int K = 10;

    /// <summary>Rank of the <see cref="BenchVectorData.LowRank"/> subspace (at most D).</summary>
    public const int LowRank = 32;

    private BenchVectorSet(int count, int dimensions, int queryCount, float[] points, float[] queries)
    {
        Count = count;
        Dimensions = dimensions;
        QueryCount = queryCount;
        Points = points;
        Queries = queries;
    }

    public int Count { get; }

    public int Dimensions { get; }

    public int QueryCount { get; }

    /// <summary>Count × Dimensions, row-major, every row of unit length.</summary>
    public float[] Points { get; }

    /// <summary>QueryCount × Dimensions, row-major, every row of unit length.</summary>
    public float[] Queries { get; }

    /// <summary>QueryCount × <see cref="K"/> row numbers, best first; filled by <see cref="ComputeExactTruth"/>.</summary>
    public long[] Truth { get; private set; } = [];

    public ReadOnlySpan<float> Point(int row) => Points.AsSpan(row * Dimensions, Dimensions);

    public ReadOnlySpan<float> Query(int index) => Queries.AsSpan(index * Dimensions, Dimensions);

    /// <summary>
    /// Low-rank: x = z·B + 0.1·√r·ε (z, B, ε standard normal; B is r × D with r = min(32, D)), then normalised.
    /// Uniform: a standard normal vector normalised, i.e. uniform on
    /// the sphere. One <see cref="Random"/> seeded with <paramref name="seed"/> draws everything in a fixed order.
    /// </summary>
    public static BenchVectorSet Generate(int count, int dimensions, int queryCount, BenchVectorData data, int seed)
    {
        var random = new Random(seed);
        var normal = new NormalSource(random);
        var rank = Math.Min(LowRank, dimensions);
        float[]? basis = null;
        if (data == BenchVectorData.LowRank)
        {
            basis = new float[rank * dimensions];
            normal.Fill(basis);
        }

        float[] Draw(int rows)
        {
            var values = new float[(long)rows * dimensions];
            var weights = new float[rank];
            var noiseScale = (float)(0.1 * Math.Sqrt(rank));
            for (var row = 0; row < rows; row++)
            {
                var vector = values.AsSpan(row * dimensions, dimensions);
                normal.Fill(vector);
                if (basis is not null)
                {
                    TensorPrimitives.Multiply(vector, noiseScale, vector);
                    normal.Fill(weights);
                    for (var j = 0; j < rank; j++)
                    {
                        TensorPrimitives.MultiplyAdd(basis.AsSpan(j * dimensions, dimensions), weights[j], vector, vector);
                    }
                }

                var norm = TensorPrimitives.Norm(vector);
                TensorPrimitives.Divide(vector, norm, vector);
            }

            return values;
        }

        var points = Draw(count);
        var queries = Draw(queryCount);
        return new BenchVectorSet(count, dimensions, queryCount, points, queries);
    }

    /// <summary>
    /// Every query's exact top <see cref="K"/> by inner product (ties to the lower row), scanning all points. Blocks of
    /// queries share each tile of rows while it is in cache, and blocks run in parallel.
    /// </summary>
    public void ComputeExactTruth()
    {
        const int QueryBlock = 16;
        const int RowTile = 512;
        var truth = new long[(long)QueryCount * K];
        var blocks = (QueryCount + QueryBlock - 1) / QueryBlock;
        Parallel.For(0, blocks, block =>
        {
            var first = block * QueryBlock;
            var last = Math.Min(QueryCount, first + QueryBlock);
            var tops = Enumerable.Range(first, last - first).Select(_ => new TopK(K)).ToArray();
            for (var tileStart = 0; tileStart < Count; tileStart += RowTile)
            {
                var tileEnd = Math.Min(Count, tileStart + RowTile);
                for (var q = first; q < last; q++)
                {
                    var query = Query(q);
                    var top = tops[q - first];
                    for (var row = tileStart; row < tileEnd; row++)
                    {
                        top.Offer(TensorPrimitives.Dot(query, Point(row)), row);
                    }
                }
            }

            for (var q = first; q < last; q++)
            {
                tops[q - first].CopyRowsTo(truth.AsSpan(q * K, K));
            }
        });
        Truth = truth;
    }

    /// <summary>Share of the exact top <see cref="K"/> found, over all queries (ids are row numbers).</summary>
    public double Recall(IReadOnlyList<IEnumerable<long>> found)
    {
        long hits = 0;
        for (var q = 0; q < QueryCount; q++)
        {
            var expected = Truth.AsSpan(q * K, K);
            foreach (var row in found[q].Distinct())
            {
                if (expected.Contains(row))
                {
                    hits++;
                }
            }
        }

        return hits / ((double)K * QueryCount);
    }

    /// <summary>
    /// base.f32, queries.f32 (float32 rows, little-endian as in memory) and truth.i64 (int64 rows of K) in
    /// <paramref name="directory"/>: what the python3-faiss anchor reads.
    /// </summary>
    public void WriteTo(string directory)
    {
        File.WriteAllBytes(Path.Combine(directory, "base.f32"), MemoryMarshal.AsBytes(Points.AsSpan()));
        File.WriteAllBytes(Path.Combine(directory, "queries.f32"), MemoryMarshal.AsBytes(Queries.AsSpan()));
        File.WriteAllBytes(Path.Combine(directory, "truth.i64"), MemoryMarshal.AsBytes(Truth.AsSpan()));
    }

    /// <summary>Standard normal floats by the Box–Muller transform (both values of each pair used).</summary>
    private sealed class NormalSource(Random random)
    {
        private float? _spare;

        public void Fill(Span<float> values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (_spare is { } spare)
                {
                    values[i] = spare;
                    _spare = null;
                    continue;
                }

                var u = 1.0 - random.NextDouble(); // (0, 1]: the logarithm stays finite
                var radius = Math.Sqrt(-2.0 * Math.Log(u));
                var angle = 2.0 * Math.PI * random.NextDouble();
                values[i] = (float)(radius * Math.Cos(angle));
                _spare = (float)(radius * Math.Sin(angle));
            }
        }
    }

    /// <summary>The best <c>k</c> (score, row) seen so far, best first; a tie keeps the lower row, which is offered first.</summary>
    private sealed class TopK(int k)
    {
        private readonly float[] _scores = new float[k];
        private readonly long[] _rows = new long[k];
        private int _count;

        public void Offer(float score, long row)
        {
            if (_count == k && score <= _scores[k - 1])
            {
                return;
            }

            var position = _count < k ? _count++ : k - 1;
            while (position > 0 && _scores[position - 1] < score)
            {
                _scores[position] = _scores[position - 1];
                _rows[position] = _rows[position - 1];
                position--;
            }

            _scores[position] = score;
            _rows[position] = row;
        }

        public void CopyRowsTo(Span<long> destination) => _rows.AsSpan(0, _count).CopyTo(destination);
    }
}
