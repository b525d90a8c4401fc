namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// How one model's CPU work is shared out: <see cref="ConcurrentRuns"/> batches in flight at once (one batcher thread
/// each), every run's operators on <see cref="IntraOpThreads"/> threads.
/// </summary>
/// <remarks>
/// Why several single-threaded runs rather than one run on every core: a run's intra-op threads meet at a barrier
/// after every operator (about 150 per run of a 6-layer BERT), so a run is as slow as its slowest thread, and the
/// small operators (softmax, layer norm, transposes, adds: about a quarter of the time) barely parallelise. Two
/// runs of one thread each keep both cores busy with no barrier. Measured on the 2-core machines (paired, same
/// process, same batches; docs/onnx.md#where-the-time-goes): 1.5–1.9× the pairs/s of one run on two threads
/// under the shared machine's load, where a preempted thread stalls its partner at every barrier. A single row's
/// result does not depend on this: ONNX Runtime's CPU kernels split work by rows and columns, never the reduction.
/// </remarks>
internal readonly record struct OnnxThreading(int ConcurrentRuns, int IntraOpThreads)
{
    /// <summary>The CPU threading <paramref name="options"/> ask for on a machine of <paramref name="cores"/> cores.</summary>
    public static OnnxThreading ForCpu(OnnxModelOptions options, int cores)
    {
        cores = Math.Max(1, cores);
        var limit = OnnxModelOptions.AutoConcurrentRunsLimit;
        var runs = options.ConcurrentRuns;
        if (runs == 0 && options.IntraOpThreads > 0)
        {
            runs = Math.Clamp(cores / options.IntraOpThreads, 1, limit);
        }
        else if (runs == 0)
        {
            // As many runs as possible (up to the limit) that still use every core: 2 cores → 2 × 1 thread,
            // 6 → 3 × 2, 8 → 4 × 2, 16 → 4 × 4 (a prime count such as 5 keeps one run on every core).
            runs = 1;
            for (var candidate = 2; candidate <= Math.Min(cores, limit); candidate++)
            {
                if (candidate * (cores / candidate) >= runs * (cores / runs))
                {
                    runs = candidate;
                }
            }
        }

        var threads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Math.Max(1, cores / runs);
        return new OnnxThreading(runs, threads);
    }

    /// <summary>On CUDA one run at a time unless the options name a count: the device, not the cores, runs the operators.</summary>
    public OnnxThreading OnDevice(string device, OnnxModelOptions options) =>
        device == "cpu" || options.ConcurrentRuns > 0 ? this : this with { ConcurrentRuns = 1 };
}
