using System.Collections.Concurrent;
using System.Diagnostics;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;
using Xunit.Abstractions;

namespace RagPlatform.Plugins.Onnx.Tests;

public sealed class TokenBatcherTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ConcurrentCallersEachGetTheirOwnVectorsInTheirOwnOrder()
    {
        await using var provider = OnnxTestSupport.Provider(o => o.BatchWindowMilliseconds = 20);
        var requests = Enumerable.Range(0, 24)
            .Select(c => Enumerable.Range(0, 1 + (c % 5)).Select(i => $"호출자 {c} 문장 {i} {new string('다', (c * 7 + i * 13) % 60)}").ToArray())
            .ToArray();
        var expected = new List<float[][]>();
        foreach (var texts in requests)
        {
            var one = new List<float[]>();
            foreach (var text in texts)
            {
                one.Add((await provider.EmbedAsync([text], EmbeddingPurpose.Document, CancellationToken.None))[0].Vector!);
            }

            expected.Add([.. one]);
        }

        var batchesBefore = provider.Batcher.BatchesRun;
        var concurrent = await Task.WhenAll(requests.Select(texts =>
            Task.Run(() => provider.EmbedAsync(texts, EmbeddingPurpose.Document, CancellationToken.None))));

        for (var c = 0; c < requests.Length; c++)
        {
            Assert.Equal(requests[c].Length, concurrent[c].Count);
            for (var i = 0; i < requests[c].Length; i++)
            {
                Assert.True(OnnxTestSupport.Cosine(expected[c][i], concurrent[c][i].Vector!) > 0.99999f, $"caller {c} slot {i}");
            }
        }

        // 72 texts from 24 callers shared model runs instead of taking one each.
        Assert.True(provider.Batcher.BatchesRun - batchesBefore < requests.Sum(r => r.Length));
    }

    [Fact]
    public async Task BatchesStayWithinTheTokenBudgetAndAreCutFromLengthSortedTexts()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.MaxBatchTokens, o.BatchWindowMilliseconds) = (96, 20));
        var batches = new ConcurrentQueue<(int Rows, int Columns)>();
        provider.Batcher.BatchRan = (rows, columns) => batches.Enqueue((rows, columns));
        var random = new Random(4);
        var texts = Enumerable.Range(0, 60).Select(i => new string((char)('가' + i), random.Next(1, 40))).ToArray();

        var results = await Task.WhenAll(texts.Chunk(6).Select(chunk =>
            Task.Run(() => provider.EmbedAsync(chunk, EmbeddingPurpose.Document, CancellationToken.None))));

        Assert.All(results.SelectMany(r => r), r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(texts.Length, batches.Sum(b => b.Rows));
        Assert.All(batches, b => Assert.True(b.Rows * b.Columns <= 96, $"a batch of {b.Rows} × {b.Columns} tokens"));

        // Length-sorted cutting wastes little: padded tokens stay close to the real ones.
        var real = texts.Sum(t => t.Length + 2);
        var padded = batches.Sum(b => b.Rows * b.Columns);
        Assert.True(padded < real * 1.5, $"{padded} padded tokens for {real} real ones");
    }

    [Fact]
    public async Task ATextLongerThanTheBudgetRunsAlone()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.MaxBatchTokens, o.BatchWindowMilliseconds) = (16, 0));
        var batches = new ConcurrentQueue<(int Rows, int Columns)>();
        provider.Batcher.BatchRan = (rows, columns) => batches.Enqueue((rows, columns));

        var results = await provider.EmbedAsync([new string('라', 60), "짧다"], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Contains((1, 62), batches);
    }

    [Fact]
    public async Task ACancelledCallerLeavesTheOthersUntouched()
    {
        await using var provider = OnnxTestSupport.Provider(o => o.BatchWindowMilliseconds = 50);
        using var cancellation = new CancellationTokenSource();

        var cancelled = provider.EmbedAsync(["취소될 요청"], EmbeddingPurpose.Document, cancellation.Token);
        var kept = provider.EmbedAsync(["남는 요청"], EmbeddingPurpose.Document, CancellationToken.None);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True((await kept)[0].Succeeded);
    }

    [Fact]
    public async Task ACallerWhoCancelsStopsItsRunningBatch()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.BatchWindowMilliseconds, o.MaxBatchTokens) = (0, 4096));
        using var cancellation = new CancellationTokenSource();
        var texts = Enumerable.Range(0, 32).Select(i => $"긴 배치 {i} " + new string('바', 90)).ToArray();

        // The caller cancels once its batch is handed to ONNX Runtime: the run's RunOptions.Terminate stops it.
        provider.Batcher.BatchStarting = (_, _) => cancellation.Cancel();
        var running = provider.EmbedAsync(texts, EmbeddingPurpose.Document, cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        // The caller's task ends at its cancellation; the batcher's thread counts the stopped run a moment later.
        for (var wait = 0; wait < 500 && provider.Batcher.BatchesTerminated == 0; wait++)
        {
            await Task.Delay(10);
        }

        // The round is cut into one batch per concurrent run; each was stopped (none ran to its end).
        Assert.InRange(provider.Batcher.BatchesTerminated, 1, provider.Batcher.ConcurrentRuns);
        Assert.Equal(0, provider.Batcher.BatchesRun);

        // The model is not harmed: the next request runs.
        provider.Batcher.BatchStarting = null;
        Assert.True((await provider.EmbedAsync(["다음 요청"], EmbeddingPurpose.Document, CancellationToken.None))[0].Succeeded);
    }

    [Fact]
    public async Task ACallerWhoseStoppedRunFailsBeforeItsOwnCancellationCallbackSeesCancellationNotTheRunsError()
    {
        // The order CI once met: the cancelling thread runs the token's callbacks newest first, so a run stopped
        // by one of them can throw (ONNX Runtime's "terminate flag" error) before the request's own callback,
        // registered earlier, has marked it cancelled. The blocker below holds the cancelling thread just there.
        using var cancellation = new CancellationTokenSource();
        using var blockerRegistered = new ManualResetEventSlim();
        await using var batcher = new TokenBatcher<float>(
            (_, _, _, _) =>
            {
                blockerRegistered.Wait(TimeSpan.FromSeconds(10));
                _ = Task.Run(cancellation.Cancel);
                SpinWait.SpinUntil(() => cancellation.IsCancellationRequested, TimeSpan.FromSeconds(10));
                throw new InvalidOperationException("Exiting due to terminate flag being set to true.");
            },
            maxBatchTokens: 64, window: TimeSpan.Zero, concurrentRuns: 1, threadName: "test-batcher");

        var running = batcher.RunAsync([new TokenizedText([101, 7, 102], [0, 0, 0])], null, cancellation.Token);
        using var blocker = cancellation.Token.Register(() => ((IAsyncResult)running).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
        blockerRegistered.Set();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public async Task ABatchSharedWithAnotherCallerKeepsRunningWhenOneCancels()
    {
        // One run at a time, so the two callers' texts share one batch (concurrent runs would each take one).
        await using var provider = OnnxTestSupport.Provider(o => (o.BatchWindowMilliseconds, o.MaxBatchTokens, o.ConcurrentRuns) = (100, 4096, 1));
        using var cancellation = new CancellationTokenSource();
        provider.Batcher.BatchStarting = (_, _) => cancellation.Cancel();

        var cancelled = provider.EmbedAsync(["취소하는 호출자"], EmbeddingPurpose.Document, cancellation.Token);
        var kept = provider.EmbedAsync(["기다리는 호출자"], EmbeddingPurpose.Document, CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True((await kept)[0].Succeeded);
        Assert.Equal(0, provider.Batcher.BatchesTerminated);
    }

    [Fact]
    public async Task ConcurrentRunsRunOneRequestsBatchesAtTheSameTime()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.ConcurrentRuns, o.IntraOpThreads, o.BatchWindowMilliseconds) = (2, 1, 0));
        Assert.Equal(2, provider.Batcher.ConcurrentRuns);

        // Two texts that fit one budget are cut into two batches, one per run; each run waits at the barrier
        // for the other, which only a second run in flight can reach.
        using var barrier = new Barrier(2);
        var met = new ConcurrentQueue<bool>();
        provider.Batcher.BatchStarting = (_, _) => met.Enqueue(barrier.SignalAndWait(TimeSpan.FromSeconds(20)));

        var results = await provider.EmbedAsync(["동시에 도는 첫째 문장", "동시에 도는 둘째 문장"], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal([true, true], met.ToArray());
        Assert.Equal(2, provider.Batcher.BatchesRun);
    }

    [Fact]
    public async Task ATextGetsTheSameVectorWhateverTheConcurrentRuns()
    {
        var texts = Enumerable.Range(0, 40).Select(i => $"같은 결과 {i} " + new string('사', i % 23)).ToArray();
        await using var oneRun = OnnxTestSupport.Provider(o => (o.ConcurrentRuns, o.IntraOpThreads) = (1, 2));
        await using var twoRuns = OnnxTestSupport.Provider(o => (o.ConcurrentRuns, o.IntraOpThreads) = (2, 1));

        var expected = await oneRun.EmbedAsync(texts, EmbeddingPurpose.Document, CancellationToken.None);
        var actual = await twoRuns.EmbedAsync(texts, EmbeddingPurpose.Document, CancellationToken.None);

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(expected[i].Vector!, actual[i].Vector!, (a, b) => Math.Abs(a - b) <= 1e-6f);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ARoundIsCutIntoAMultipleOfTheConcurrentRunsWithinTheBudget(int runs)
    {
        var random = new Random(runs);
        var lengths = Enumerable.Range(0, 50).Select(_ => random.Next(90, 220)).Order().ToList();

        var cuts = TokenBatcher<float>.Cut(lengths, 1024, runs);

        Assert.Equal(0, cuts.Count % runs);
        Assert.Equal(Enumerable.Range(0, lengths.Count), cuts.SelectMany(c => Enumerable.Range(c.Start, c.End - c.Start)));
        var sizes = cuts.Select(c => (c.End - c.Start) * lengths[c.End - 1]).ToList();
        Assert.All(sizes, s => Assert.True(s <= 1024, $"a batch of {s} padded tokens"));

        // As few batches as the budget allows, rounded up to the runs: the greedy cut within the budget is the floor.
        var greedy = TokenBatcher<float>.Cut(lengths, 1024, 1).Count;
        Assert.Equal((greedy + runs - 1) / runs * runs, cuts.Count);
        if (runs > 1)
        {
            // Even: no batch is more than a row's worth larger than the round's average share.
            Assert.True(sizes.Max() <= (sizes.Sum() / (double)cuts.Count) + lengths[^1] * 2, string.Join(",", sizes));
        }
    }

    [Fact]
    public void ACutNeverMakesMoreBatchesThanRowsAndKeepsALongRowAlone()
    {
        Assert.Equal([(0, 1)], TokenBatcher<float>.Cut([40], 1024, 4));
        Assert.Equal([(0, 1), (1, 2), (2, 3)], TokenBatcher<float>.Cut([10, 20, 30], 1024, 4));
        Assert.Equal([(0, 2), (2, 3)], TokenBatcher<float>.Cut([5, 6, 900], 64, 1));
    }

    /// <remarks>
    /// The single-caller figure is one caller sending the same 512 texts in one call: batches are then as large
    /// as the token budget allows, as they are under 64 callers, so the comparison isolates what concurrency
    /// adds (a second model copy or session would add its weights and arena; per-caller buffers would scale
    /// with callers). Both are measured after a warm-up, as resident anonymous memory sampled every 5 ms.
    /// </remarks>
    [Fact]
    public async Task SixtyFourConcurrentCallersKeepProcessMemoryWithinTenPercentOfOneCaller()
    {
        await using var provider = OnnxTestSupport.Provider(o => o.IntraOpThreads = 2);
        var texts = Enumerable.Range(0, 512).Select(i => $"메모리 측정 문장 {i}: " + new string('마', 20 + (i % 60))).ToArray();

        async Task<long> PeakDuring(int callers)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var peak = CurrentMemory();
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, CurrentMemory());
                    await Task.Delay(5);
                }
            });
            for (var round = 0; round < 2; round++)
            {
                await Task.WhenAll(texts.Chunk(texts.Length / callers).Select(share =>
                    provider.EmbedAsync(share, EmbeddingPurpose.Document, CancellationToken.None)));
            }

            await sampling.CancelAsync();
            await sampler;
            return peak;
        }

        await PeakDuring(1); // warm-up: the session's arena reaches its working size
        var single = await PeakDuring(1);
        var many = await PeakDuring(64);

        output.WriteLine($"resident anonymous memory: one caller {single / 1048576.0:F1} MiB, 64 callers {many / 1048576.0:F1} MiB");
        Assert.True(many <= single * 1.10, $"64 callers peaked at {many / 1048576.0:F1} MiB, one caller at {single / 1048576.0:F1} MiB");
    }

    /// <summary>Resident, non-shared memory of the process (RssAnon): the model's weights, ORT's arena and the managed heap.</summary>
    private static long CurrentMemory()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(8).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return Process.GetCurrentProcess().WorkingSet64;
    }
}
