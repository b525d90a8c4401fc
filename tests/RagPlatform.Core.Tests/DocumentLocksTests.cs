using RagPlatform.Core.Collections;

namespace RagPlatform.Core.Tests;

/// <summary><see cref="DocumentLocks"/>: one lock per document, so only batches sharing a document wait for each other.</summary>
public sealed class DocumentLocksTests
{
    [Fact]
    public async Task Batches_of_different_documents_do_not_wait_for_each_other()
    {
        var locks = new DocumentLocks();
        // Enough documents that hash stripes would have collided; exact locks never do.
        var first = Enumerable.Range(0, 400).Select(i => "a-" + i).ToList();
        var second = Enumerable.Range(0, 400).Select(i => "b-" + i).ToList();

        await using var held = await locks.AcquireAsync("docs", first, default);
        var other = locks.AcquireAsync("docs", second, default);

        Assert.True(other.IsCompletedSuccessfully);
        await (await other).DisposeAsync();
    }

    [Fact]
    public async Task A_batch_sharing_a_document_waits_until_it_is_released()
    {
        var locks = new DocumentLocks();
        var held = await locks.AcquireAsync("docs", ["x", "shared"], default);

        var waiting = locks.AcquireAsync("docs", ["shared", "y"], default);
        Assert.False(waiting.IsCompleted);
        var sameIdOtherCollection = locks.AcquireAsync("other", ["shared"], default);
        Assert.True(sameIdOtherCollection.IsCompletedSuccessfully);

        await held.DisposeAsync();
        await (await waiting).DisposeAsync();
        await (await sameIdOtherCollection).DisposeAsync();
        Assert.Equal(0, locks.EntryCount);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_back_what_it_took_and_leaves_no_entries()
    {
        var locks = new DocumentLocks();
        var held = await locks.AcquireAsync("docs", ["m"], default);
        using var cancellation = new CancellationTokenSource();

        // Takes "a" (free), then waits for "m".
        var waiting = locks.AcquireAsync("docs", ["a", "m"], cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        var again = locks.AcquireAsync("docs", ["a"], default);
        Assert.True(again.IsCompletedSuccessfully);
        await (await again).DisposeAsync();
        await held.DisposeAsync();
        Assert.Equal(0, locks.EntryCount);
    }

    [Fact]
    public async Task Releasing_twice_is_harmless()
    {
        var locks = new DocumentLocks();
        var held = await locks.AcquireAsync("docs", ["d", "d"], default);
        await held.DisposeAsync();
        await held.DisposeAsync();

        var again = locks.AcquireAsync("docs", ["d"], default);
        Assert.True(again.IsCompletedSuccessfully);
        await (await again).DisposeAsync();
        Assert.Equal(0, locks.EntryCount);
    }
}
