using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Storage.Sqlite;
using RagPlatform.Sdk;

namespace RagPlatform.Hosting;

/// <summary>
/// The standalone host's restart after a crash (even <c>kill -9</c>). Its bus keeps messages in memory, so work that was
/// queued when the process stopped is gone: every document a job queued and no worker recorded fails in its job with the
/// reason (posting it again retries it), and a running re-index is given up (the active version stays; start it again).
/// Then, when the last run did not stop cleanly, the vector store and the lexical index are brought back to the metadata
/// store's chunk rows, which are the truth: writers add points before the rows name them and remove them only after the
/// rows let go, so a crash can leave points no row names (removed here), never a row without its point (logged as an
/// error if ever found). Runs before the host serves requests.
/// </summary>
public sealed partial class InterruptedWorkRecovery(
    IMetadataStore store,
    CollectionService collections,
    ILexicalIndex lexical,
    IOptions<RagPlatformOptions> options,
    ILogger<InterruptedWorkRecovery> logger) : IHostedService
{
    /// <summary>Present while a host runs on the data directory: found at start, it means the last run crashed.</summary>
    public const string RunningMarkerName = "host.running";

    internal const string InterruptedReason =
        "The service stopped before this document was processed (the in-process message bus does not survive a restart); post it again.";

    internal const string ReindexInterruptedReason =
        "The service stopped while the re-index ran (the in-process message bus does not survive a restart); start it again.";

    /// <summary>The embedded store, also behind the single-process host's record cache; null for any other store.</summary>
    private SqliteMetadataStore? Sqlite => (store is CollectionRecordCache cache ? cache.Inner : store) as SqliteMetadataStore;

    private string MarkerPath => Path.Combine(options.Value.ResolveDataDirectory(), RunningMarkerName);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Sqlite is not { } sqlite)
        {
            return;
        }

        var crashed = File.Exists(MarkerPath);
        Directory.CreateDirectory(Path.GetDirectoryName(MarkerPath)!);
        await File.WriteAllTextAsync(MarkerPath, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);

        var interrupted = await sqlite.FailQueuedItemsAsync(InterruptedReason, cancellationToken);
        foreach (var job in interrupted)
        {
            LogJobInterrupted(job.JobId, job.Collection, job.Documents);
        }

        var reindexes = 0;
        foreach (var record in await store.ListCollectionsAsync(cancellationToken))
        {
            if (record.Reindex is { IsRunning: true } reindex)
            {
                // Never finished here even when its job is complete: documents ingested meanwhile may not have been
                // copied into the new version before the crash.
                await collections.FailReindexAsync(record.Name, reindex.JobId, ReindexInterruptedReason, cancellationToken);
                reindexes++;
            }
        }

        if (crashed || interrupted.Count > 0 || reindexes > 0)
        {
            await ReconcileAsync(sqlite, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopped in reverse order of start: the bus and the requests are done by now.
        if (Sqlite is not null)
        {
            File.Delete(MarkerPath);
        }

        return Task.CompletedTask;
    }

    private async Task ReconcileAsync(SqliteMetadataStore sqlite, CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListCollectionsAsync(cancellationToken))
        {
            try
            {
                await ReconcileAsync(sqlite, record, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One collection whose plugins cannot be created (a model gone) must not keep the others from serving.
                LogReconcileFailed(ex, record.Name);
            }
        }
    }

    private async Task ReconcileAsync(SqliteMetadataStore sqlite, CollectionRecord record, CancellationToken cancellationToken)
    {
        var rows = (await sqlite.ListPointIdsAsync(record.Name, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var collection = await collections.ResolveAsync(record, cancellationToken);
        var points = new List<string>();
        if (await collection.Backend.GetCollectionAsync(collection.VectorName, cancellationToken) is not null)
        {
            await foreach (var point in collection.Backend.ExportAsync(collection.VectorName, cancellationToken))
            {
                points.Add(point.Id);
            }
        }

        var orphans = points.Where(id => !rows.Contains(id)).ToList();
        if (orphans.Count > 0)
        {
            await collection.Backend.DeleteAsync(collection.VectorName, orphans, cancellationToken);
        }

        var missing = rows.Count - (points.Count - orphans.Count);
        var lexicalOrphans = 0;
        var lexicalMissing = 0;
        if (collection.Backend is not IHybridSearchBackend && lexical is EmbeddedLexicalIndex embedded)
        {
            var entries = embedded.ChunkIds(record.Name);
            var stale = entries.Where(id => !rows.Contains(id)).ToList();
            if (stale.Count > 0)
            {
                await lexical.DeleteAsync(record.Name, stale, cancellationToken);
            }

            lexicalOrphans = stale.Count;
            lexicalMissing = rows.Count - (entries.Count - stale.Count);
        }

        if (orphans.Count + lexicalOrphans > 0)
        {
            LogOrphansRemoved(record.Name, orphans.Count, lexicalOrphans);
        }

        if (missing + lexicalMissing > 0)
        {
            LogRowsWithoutPoints(record.Name, missing, lexicalMissing);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Collection {Collection}: its vectors and lexical entries could not be checked against the metadata after a crash")]
    private partial void LogReconcileFailed(Exception exception, string collection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Collection}): {Documents} queued documents were lost with the last run and are marked failed")]
    private partial void LogJobInterrupted(Guid jobId, string collection, int documents);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Collection}: removed {Vectors} vector points and {Lexical} lexical entries that the last run wrote but no chunk row names")]
    private partial void LogOrphansRemoved(string collection, int vectors, int lexical);

    [LoggerMessage(Level = LogLevel.Error, Message = "Collection {Collection}: {Vectors} chunk rows have no vector point and {Lexical} no lexical entry")]
    private partial void LogRowsWithoutPoints(string collection, int vectors, int lexical);
}

public static class InterruptedWorkRecoveryExtensions
{
    /// <summary>
    /// For a host whose bus is in memory and whose metadata is the embedded SQLite store (the standalone host): fail the
    /// work a crash lost and bring the indexes back to the metadata at start (<see cref="InterruptedWorkRecovery"/>).
    /// Register after the core services (the metadata store is initialised first) and before the bus.
    /// </summary>
    public static IHostApplicationBuilder AddInterruptedWorkRecovery(this IHostApplicationBuilder builder)
    {
        // Read from the topology record: a durable broker still delivers the queued messages, and PostgreSQL metadata
        // is shared with other processes, so in either case nothing here may fail or remove another process's work.
        var topology = builder.GetRagTopology();
        if (topology is { Messaging: MessagingTransport.InMemory, Metadata: MetadataPlacement.Sqlite })
        {
            builder.Services.AddHostedService<InterruptedWorkRecovery>();
        }

        return builder;
    }
}
