using System.Collections.Concurrent;
using System.Diagnostics;
using RagPlatform.Sdk;
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

        Assert.Equal(1, provider.Batcher.BatchesTerminated);
        Assert.Equal(0, provider.Batcher.BatchesRun);

        // The model is not harmed: the next request runs.
        provider.Batcher.BatchStarting = null;
        Assert.True((await provider.EmbedAsync(["다음 요청"], EmbeddingPurpose.Document, CancellationToken.None))[0].Succeeded);
    }

    [Fact]
    public async Task ABatchSharedWithAnotherCallerKeepsRunningWhenOneCancels()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.BatchWindowMilliseconds, o.MaxBatchTokens) = (100, 4096));
        using var cancellation = new CancellationTokenSource();
        provider.Batcher.BatchStarting = (_, _) => cancellation.Cancel();

        var cancelled = provider.EmbedAsync(["취소하는 호출자"], EmbeddingPurpose.Document, cancellation.Token);
        var kept = provider.EmbedAsync(["기다리는 호출자"], EmbeddingPurpose.Document, CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True((await kept)[0].Succeeded);
        Assert.Equal(0, provider.Batcher.BatchesTerminated);
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
