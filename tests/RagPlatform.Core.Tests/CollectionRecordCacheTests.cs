using RagPlatform.Storage.Sqlite;
using System.Diagnostics.Metrics;
using System.Reflection;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Storage;
using RagPlatform.Testing;

namespace RagPlatform.Core.Tests;

/// <summary>The metadata store contract through the collection-record cache (over SQLite), and the cache's own promise: no old record once a write is visible.</summary>
public sealed class CollectionRecordCacheTests : MetadataStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-recordcache-" + Guid.NewGuid().ToString("N"));
    private SqliteMetadataStore _sqlite = null!;
    private SlowReturningStore _slow = null!;

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        _sqlite = new SqliteMetadataStore(Path.Combine(_directory, "metadata.db"));
        await _sqlite.InitializeAsync(default);
        _slow = SlowReturningStore.Wrap(_sqlite);
        return new CollectionRecordCache((IMetadataStore)(object)_slow, new CacheOptions(), new CacheMetrics(new TestMeterFactory()));
    }

    protected override async Task DisposeStoreAsync(IMetadataStore store)
    {
        await _sqlite.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_write_is_seen_by_reads_from_the_moment_it_commits_not_when_its_call_returns()
    {
        var cached = (await Store.GetCollectionAsync(Collection, default))!;
        Assert.Same(cached, await Store.GetCollectionAsync(Collection, default));

        // The store has committed the change, but its call has not returned yet (as when a job is already
        // reported complete while the worker's call is still unwinding).
        var release = _slow.HoldReturnsOf(nameof(IMetadataStore.UpdateCollectionAsync));
        var update = Store.UpdateCollectionAsync(Collection, cached.Settings, "fp-2", default);
        await _slow.Committed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("fp-2", (await Store.GetCollectionAsync(Collection, default))!.Fingerprint);
        Assert.Equal("fp-2", (await Store.GetCollectionAsync(Collection, default))!.Fingerprint);

        release.SetResult();
        await update;
        var after = (await Store.GetCollectionAsync(Collection, default))!;
        Assert.Equal("fp-2", after.Fingerprint);
        Assert.Same(after, await Store.GetCollectionAsync(Collection, default));
    }

    /// <summary>Forwards every call to the store; for a chosen method, holds the returned task after the store finished it.</summary>
    public class SlowReturningStore : DispatchProxy
    {
        private IMetadataStore _inner = null!;
        private string? _held;
        private TaskCompletionSource _release = new();

        public TaskCompletionSource Committed { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static SlowReturningStore Wrap(IMetadataStore inner)
        {
            var proxy = Create<IMetadataStore, SlowReturningStore>();
            var store = (SlowReturningStore)(object)proxy;
            store._inner = inner;
            return store;
        }

        public TaskCompletionSource HoldReturnsOf(string method)
        {
            _held = method;
            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _release;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var result = targetMethod!.Invoke(_inner, args);
            return targetMethod.Name == _held && result is Task task && targetMethod.ReturnType == typeof(Task) ? HoldAsync(task) : result;
        }

        private async Task HoldAsync(Task write)
        {
            await write;
            Committed.SetResult();
            await _release.Task;
        }
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
