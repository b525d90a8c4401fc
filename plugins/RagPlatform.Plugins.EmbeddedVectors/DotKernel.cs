using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// Dot products of stored rows with one query or with many, the inner loops of the exact scan.
/// <para>
/// Every (query, row) pair is summed the same way whichever entry point scores it: one 8-wide FMA
/// accumulator over the leading multiple of 8 dimensions, then its horizontal sum, then the remaining
/// dimensions one FMA at a time. So a query scored alone and the same query scored inside a batch get
/// bit-identical scores, and batching never changes an answer.
/// </para>
/// <para>
/// One query is bound by memory bandwidth (each row is read once and used once): the single kernel scores
/// four rows per pass so four independent FMA chains hide the FMA latency. Many queries are bound by
/// arithmetic: the batch kernel dots two rows with four queries per pass (eight accumulators, six loads per
/// eight FMAs), so each row is loaded once per four queries instead of once per query.
/// </para>
/// </summary>
internal static unsafe class DotKernel
{
    /// <summary>Rows scored per call of the batch kernel: 96 KiB of 384-dim rows stay in L2 while every query passes over them.</summary>
    public const int TileRows = 64;

    /// <summary>Whether the hand-written AVX2/FMA kernels run; elsewhere each pair goes through TensorPrimitives.Dot.</summary>
    public static bool IsAccelerated { get; } = Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary><c>scores[i] = query · rows[i]</c> for <paramref name="count"/> rows stored <paramref name="dimensions"/> floats apart.</summary>
    public static void Score(float* query, float* rows, int dimensions, int count, float* scores)
    {
        if (!IsAccelerated)
        {
            var target = new ReadOnlySpan<float>(query, dimensions);
            for (var i = 0; i < count; i++)
            {
                scores[i] = TensorPrimitives.Dot(target, new ReadOnlySpan<float>(rows + ((long)i * dimensions), dimensions));
            }

            return;
        }

        var vectorEnd = dimensions & ~7;
        var i4 = 0;
        for (; i4 + 4 <= count; i4 += 4)
        {
            var r0 = rows + ((long)i4 * dimensions);
            var r1 = r0 + dimensions;
            var r2 = r1 + dimensions;
            var r3 = r2 + dimensions;
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero;
            var a3 = Vector256<float>.Zero;
            for (var j = 0; j < vectorEnd; j += 8)
            {
                var q = Vector256.Load(query + j);
                a0 = Fma.MultiplyAdd(q, Vector256.Load(r0 + j), a0);
                a1 = Fma.MultiplyAdd(q, Vector256.Load(r1 + j), a1);
                a2 = Fma.MultiplyAdd(q, Vector256.Load(r2 + j), a2);
                a3 = Fma.MultiplyAdd(q, Vector256.Load(r3 + j), a3);
            }

            scores[i4] = Finish(a0, query, r0, vectorEnd, dimensions);
            scores[i4 + 1] = Finish(a1, query, r1, vectorEnd, dimensions);
            scores[i4 + 2] = Finish(a2, query, r2, vectorEnd, dimensions);
            scores[i4 + 3] = Finish(a3, query, r3, vectorEnd, dimensions);
        }

        for (; i4 < count; i4++)
        {
            var r = rows + ((long)i4 * dimensions);
            var a = Vector256<float>.Zero;
            for (var j = 0; j < vectorEnd; j += 8)
            {
                a = Fma.MultiplyAdd(Vector256.Load(query + j), Vector256.Load(r + j), a);
            }

            scores[i4] = Finish(a, query, r, vectorEnd, dimensions);
        }
    }

    /// <summary>
    /// <c>scores[q * scoreStride + i] = queries[q] · rows[i]</c> for <paramref name="queryCount"/> queries stored
    /// back to back and <paramref name="count"/> (at most a few <see cref="TileRows"/>) rows.
    /// </summary>
    public static void ScoreMany(float* queries, int queryCount, float* rows, int dimensions, int count, float* scores, int scoreStride)
    {
        var quads = IsAccelerated ? queryCount & ~3 : 0;
        var pairs = count & ~1;
        var vectorEnd = dimensions & ~7;
        for (var q = 0; q < quads; q += 4)
        {
            var q0 = queries + ((long)q * dimensions);
            var q1 = q0 + dimensions;
            var q2 = q1 + dimensions;
            var q3 = q2 + dimensions;
            var s0 = scores + ((long)q * scoreStride);
            var s1 = s0 + scoreStride;
            var s2 = s1 + scoreStride;
            var s3 = s2 + scoreStride;
            for (var i = 0; i < pairs; i += 2)
            {
                var r0 = rows + ((long)i * dimensions);
                var r1 = r0 + dimensions;
                var a00 = Vector256<float>.Zero;
                var a01 = Vector256<float>.Zero;
                var a02 = Vector256<float>.Zero;
                var a03 = Vector256<float>.Zero;
                var a10 = Vector256<float>.Zero;
                var a11 = Vector256<float>.Zero;
                var a12 = Vector256<float>.Zero;
                var a13 = Vector256<float>.Zero;
                for (var j = 0; j < vectorEnd; j += 8)
                {
                    var x0 = Vector256.Load(r0 + j);
                    var x1 = Vector256.Load(r1 + j);
                    var y = Vector256.Load(q0 + j);
                    a00 = Fma.MultiplyAdd(y, x0, a00);
                    a10 = Fma.MultiplyAdd(y, x1, a10);
                    y = Vector256.Load(q1 + j);
                    a01 = Fma.MultiplyAdd(y, x0, a01);
                    a11 = Fma.MultiplyAdd(y, x1, a11);
                    y = Vector256.Load(q2 + j);
                    a02 = Fma.MultiplyAdd(y, x0, a02);
                    a12 = Fma.MultiplyAdd(y, x1, a12);
                    y = Vector256.Load(q3 + j);
                    a03 = Fma.MultiplyAdd(y, x0, a03);
                    a13 = Fma.MultiplyAdd(y, x1, a13);
                }

                s0[i] = Finish(a00, q0, r0, vectorEnd, dimensions);
                s1[i] = Finish(a01, q1, r0, vectorEnd, dimensions);
                s2[i] = Finish(a02, q2, r0, vectorEnd, dimensions);
                s3[i] = Finish(a03, q3, r0, vectorEnd, dimensions);
                s0[i + 1] = Finish(a10, q0, r1, vectorEnd, dimensions);
                s1[i + 1] = Finish(a11, q1, r1, vectorEnd, dimensions);
                s2[i + 1] = Finish(a12, q2, r1, vectorEnd, dimensions);
                s3[i + 1] = Finish(a13, q3, r1, vectorEnd, dimensions);
            }

            if (pairs < count)
            {
                var last = rows + ((long)pairs * dimensions);
                Score(q0, last, dimensions, 1, s0 + pairs);
                Score(q1, last, dimensions, 1, s1 + pairs);
                Score(q2, last, dimensions, 1, s2 + pairs);
                Score(q3, last, dimensions, 1, s3 + pairs);
            }
        }

        for (var q = quads; q < queryCount; q++)
        {
            Score(queries + ((long)q * dimensions), rows, dimensions, count, scores + ((long)q * scoreStride));
        }
    }

    /// <summary>
    /// <c>scores[i] = query · high[i]</c> over the bfloat16 copy of <paramref name="count"/> rows: half the bytes
    /// of the floats, so about twice as fast where the scan is bound by memory. Only when <see cref="IsAccelerated"/>.
    /// </summary>
    public static void ScoreBFloat16(float* query, ushort* rows, int dimensions, int count, float* scores)
    {
        var vectorEnd = dimensions & ~7;
        var i4 = 0;
        for (; i4 + 4 <= count; i4 += 4)
        {
            var r0 = rows + ((long)i4 * dimensions);
            var r1 = r0 + dimensions;
            var r2 = r1 + dimensions;
            var r3 = r2 + dimensions;
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero;
            var a3 = Vector256<float>.Zero;
            for (var j = 0; j < vectorEnd; j += 8)
            {
                var q = Vector256.Load(query + j);
                a0 = Fma.MultiplyAdd(q, Widen(r0 + j), a0);
                a1 = Fma.MultiplyAdd(q, Widen(r1 + j), a1);
                a2 = Fma.MultiplyAdd(q, Widen(r2 + j), a2);
                a3 = Fma.MultiplyAdd(q, Widen(r3 + j), a3);
            }

            scores[i4] = FinishBFloat16(a0, query, r0, vectorEnd, dimensions);
            scores[i4 + 1] = FinishBFloat16(a1, query, r1, vectorEnd, dimensions);
            scores[i4 + 2] = FinishBFloat16(a2, query, r2, vectorEnd, dimensions);
            scores[i4 + 3] = FinishBFloat16(a3, query, r3, vectorEnd, dimensions);
        }

        for (; i4 < count; i4++)
        {
            var r = rows + ((long)i4 * dimensions);
            var a = Vector256<float>.Zero;
            for (var j = 0; j < vectorEnd; j += 8)
            {
                a = Fma.MultiplyAdd(Vector256.Load(query + j), Widen(r + j), a);
            }

            scores[i4] = FinishBFloat16(a, query, r, vectorEnd, dimensions);
        }
    }

    /// <summary>Eight bfloat16 values as floats: zero-extend to 32 bits, shift into the upper half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ushort* values) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(values), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishBFloat16(Vector256<float> accumulator, float* query, ushort* row, int from, int dimensions)
    {
        var sum = Vector256.Sum(accumulator);
        for (var j = from; j < dimensions; j++)
        {
            sum = MathF.FusedMultiplyAdd(query[j], BitConverter.Int32BitsToSingle(row[j] << 16), sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> accumulator, float* query, float* row, int from, int dimensions)
    {
        var sum = Vector256.Sum(accumulator);
        for (var j = from; j < dimensions; j++)
        {
            sum = MathF.FusedMultiplyAdd(query[j], row[j], sum);
        }

        return sum;
    }
}
