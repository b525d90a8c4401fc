using RagPlatform.Core.Storage;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Core.Tests;

/// <summary>
/// <see cref="WriteCombiner{TRequest}"/>: requests that arrive while a batch runs are applied together in the
/// next one. Each test holds the first batch open on a gate, so which requests share a batch is decided by the
/// test, not by timing.
/// </summary>
public sealed class WriteCombinerTests
{
    private sealed class Recorder
    {
        private readonly TaskCompletionSource _firstBatchEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _releaseFirstBatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public List<List<string>> Batches { get; } = [];

        /// <summary>Every call to the apply function, including failed ones and one-by-one retries.</summary>
        public List<List<string>> Calls { get; } = [];

        public Func<IReadOnlyList<string>, bool> Fails { get; set; } = _ => false;

        public Task FirstBatchEntered => _firstBatchEntered.Task;

        public void ReleaseFirstBatch() => _releaseFirstBatch.SetResult();

        public async Task ApplyAsync(IReadOnlyList<string> batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _firstBatchEntered.SetResult();
                await _releaseFirstBatch.Task;
            }

            lock (Calls)
            {
                Calls.Add([.. batch]);
            }

            if (Fails(batch))
            {
                throw new InvalidOperationException("write failed: " + string.Join(",", batch));
            }

            lock (Batches)
            {
                Batches.Add([.. batch]);
            }
        }
    }

    [Fact]
    public async Task Requests_arriving_during_a_batch_are_applied_together_in_arrival_order_and_each_caller_completes()
    {
        var recorder = new Recorder();
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);

        var first = combiner.WriteAsync("first", default);
        await recorder.FirstBatchEntered;
        var queued = new[] { "a", "b", "c", "d" }.Select(r => combiner.WriteAsync(r, default)).ToList();
        Assert.All(queued, t => Assert.False(t.IsCompleted));

        recorder.ReleaseFirstBatch();
        await first;
        await Task.WhenAll(queued);

        Assert.Equal([["first"], ["a", "b", "c", "d"]], recorder.Batches);
    }

    [Fact]
    public async Task One_callers_successive_requests_apply_in_order()
    {
        var recorder = new Recorder();
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);
        recorder.ReleaseFirstBatch();

        for (var i = 0; i < 20; i++)
        {
            await combiner.WriteAsync("r" + i, default);
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => "r" + i), recorder.Batches.SelectMany(b => b));
    }

    [Fact]
    public async Task A_batch_is_capped_and_the_rest_follows_in_the_next()
    {
        var recorder = new Recorder();
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync, maxBatch: 2);

        var first = combiner.WriteAsync("first", default);
        await recorder.FirstBatchEntered;
        var queued = new[] { "a", "b", "c" }.Select(r => combiner.WriteAsync(r, default)).ToList();
        recorder.ReleaseFirstBatch();
        await Task.WhenAll(queued.Append(first));

        Assert.Equal([["first"], ["a", "b"], ["c"]], recorder.Batches);
    }

    [Fact]
    public async Task A_request_that_breaks_a_combined_batch_fails_only_its_own_caller()
    {
        var recorder = new Recorder { Fails = batch => batch.Contains("bad") };
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);

        var first = combiner.WriteAsync("first", default);
        await recorder.FirstBatchEntered;
        var a = combiner.WriteAsync("a", default);
        var bad = combiner.WriteAsync("bad", default);
        var c = combiner.WriteAsync("c", default);
        recorder.ReleaseFirstBatch();

        await Task.WhenAll(first, a, c);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal("write failed: bad", error.Message);
        // The combined attempt failed as a unit, then each request was applied alone (writes are idempotent).
        Assert.Equal([["first"], ["a", "bad", "c"], ["a"], ["bad"], ["c"]], recorder.Calls);
        Assert.Equal([["first"], ["a"], ["c"]], recorder.Batches);
    }

    [Fact]
    public async Task A_batch_that_cannot_be_written_fails_exactly_the_callers_in_it()
    {
        var broken = true;
        var recorder = new Recorder();
        recorder.Fails = batch => broken && !batch.Contains("first");
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);

        var first = combiner.WriteAsync("first", default);
        await recorder.FirstBatchEntered;
        var x = combiner.WriteAsync("x", default);
        var y = combiner.WriteAsync("y", default);
        recorder.ReleaseFirstBatch();

        await first;
        await Assert.ThrowsAsync<InvalidOperationException>(() => x);
        await Assert.ThrowsAsync<InvalidOperationException>(() => y);

        // The store is back: later callers are not affected by the earlier failure.
        broken = false;
        await combiner.WriteAsync("later", default);
        Assert.Equal([["first"], ["later"]], recorder.Batches);
    }

    [Fact]
    public async Task A_caller_cancelled_while_queued_withdraws_its_request()
    {
        var recorder = new Recorder();
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);

        var first = combiner.WriteAsync("first", default);
        await recorder.FirstBatchEntered;
        using var cancellation = new CancellationTokenSource();
        var withdrawn = combiner.WriteAsync("withdrawn", cancellation.Token);
        var kept = combiner.WriteAsync("kept", default);
        await cancellation.CancelAsync();
        recorder.ReleaseFirstBatch();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        await Task.WhenAll(first, kept);
        Assert.Equal([["first"], ["kept"]], recorder.Batches);
    }

    [Fact]
    public async Task A_caller_cancelled_after_its_batch_started_still_gets_the_outcome()
    {
        var recorder = new Recorder();
        var combiner = new WriteCombiner<string>(recorder.ApplyAsync);
        using var cancellation = new CancellationTokenSource();

        var first = combiner.WriteAsync("first", cancellation.Token);
        await recorder.FirstBatchEntered;
        await cancellation.CancelAsync();
        recorder.ReleaseFirstBatch();

        await first;
        Assert.Equal([["first"]], recorder.Batches);
    }
}
