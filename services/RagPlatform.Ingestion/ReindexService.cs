using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;

namespace RagPlatform.Ingestion;

/// <summary>
/// Starts a blue/green re-index (docs/vector-backends.md): records the new version and its job, then queues every
/// document for the embedding workers, which copy them into the new version and switch the collection when the job
/// completes. Until then searches and ingestion use the active version; ingests are also written to the new one.
/// </summary>
public sealed class ReindexService(
    CollectionService collections,
    IPublishEndpoint publisher,
    IOptions<RagPlatformOptions> options,
    ILogger<ReindexService> logger)
{
    /// <summary>Documents per message: small enough to spread over workers, large enough to batch embedding calls.</summary>
    internal const int DocumentsPerMessage = 32;

    public async Task<ReindexAccepted> StartAsync(string name, ReindexRequest? request, CancellationToken cancellationToken)
    {
        var (record, documents) = await collections.BeginReindexAsync(name, request, cancellationToken);
        var reindex = record.Reindex!;
        var accepted = new ReindexAccepted(reindex.JobId, name, reindex.TargetVersion, documents.Count);
        if (documents.Count == 0)
        {
            // Nothing to copy: the new version is complete as it is.
            await collections.FinishReindexAsync(name, reindex.JobId, cancellationToken);
            return accepted;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.Messaging.PublishTimeoutSeconds));
        try
        {
            for (var offset = 0; offset < documents.Count; offset += DocumentsPerMessage)
            {
                var batch = documents.Skip(offset).Take(DocumentsPerMessage).ToList();
                await publisher.Publish(new ReindexDocuments(reindex.JobId, name, reindex.TargetVersion, batch), timeout.Token);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Half a job would never complete: give the re-index up (the active version stays) and say so.
            await collections.FailReindexAsync(name, reindex.JobId, "Could not queue the documents for re-embedding: " + ex.GetType().Name, CancellationToken.None);
            throw new MessageBusUnavailableException(
                $"The message bus did not accept the re-index of '{name}'; it was given up and can be started again.", ex);
        }

        logger.LogInformation("Re-index of {Collection} into version {Version}: {Documents} documents queued (job {JobId})",
            name, reindex.TargetVersion, documents.Count, reindex.JobId);
        return accepted;
    }
}
