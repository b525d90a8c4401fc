using MassTransit;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Storage;

namespace RagPlatform.Embedding;

/// <summary>
/// Copies one message's documents into the version a re-index builds (see <see cref="VersionCopier"/>), records them in
/// the re-index job, and lets the collection switch once the job is complete. Holds the documents' locks while copying,
/// so an ingest of the same document is either copied whole or re-synced after (see <see cref="DocumentEmbedder"/>).
/// </summary>
public sealed class ReindexDocumentsConsumer(
    CollectionService collections, IMetadataStore store, IDocumentLocks locks, VersionCopier copier) : IConsumer<ReindexDocuments>
{
    public async Task Consume(ConsumeContext<ReindexDocuments> context)
    {
        var message = context.Message;
        var cancellationToken = context.CancellationToken;
        await using (await locks.AcquireAsync(message.Collection, message.DocumentIds, cancellationToken))
        {
            var record = await store.GetCollectionAsync(message.Collection, cancellationToken);
            if (record is null)
            {
                return;
            }

            IReadOnlyList<JobItemResult> results;
            if (await collections.ResolveReindexTargetAsync(record, cancellationToken) is { } target && target.Reindex.JobId == message.JobId)
            {
                results = await copier.CopyAsync(await collections.ResolveAsync(record, cancellationToken), target, message.DocumentIds, [], null, cancellationToken);
            }
            else
            {
                // Given up (or superseded) meanwhile: finish the job's count without work.
                results = [.. message.DocumentIds.Select(id => new JobItemResult(id, 0, JobItemOutcome.Skipped, "The re-index is no longer running."))];
            }

            await store.RecordJobItemsAsync(message.JobId, results, cancellationToken);
        }

        await collections.FinishReindexAsync(message.Collection, message.JobId, cancellationToken);
    }
}

public sealed class ReindexDocumentsConsumerDefinition : ConsumerDefinition<ReindexDocumentsConsumer>
{
    private readonly MessagingOptions _options;

    public ReindexDocumentsConsumerDefinition(IOptions<RagPlatformOptions> options)
    {
        _options = options.Value.Messaging;
        EndpointName = "reindex-documents";
        ConcurrentMessageLimit = _options.ConcurrentMessageLimit;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ReindexDocumentsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Message redelivery, not a second HTTP retry policy: each remote call inside the consumer (the embedding
        // provider, a remote vector service, the index owner) has already been retried by the one retry policy
        // (RagPlatform.Sdk.Remote.RemoteRetry). This retries the whole message when that still failed or something
        // local did (a lock, the metadata store), and once it is spent the documents fail in their job with the reason.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(_options.RetryLimit, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
            retry.Ignore<ArgumentException>();
        });
    }
}

/// <summary>A re-index message out of retries fails its documents, which fails the re-index: the active version stays.</summary>
public sealed class ReindexDocumentsFaultConsumer(IJobStore store, CollectionService collections) : IConsumer<Fault<ReindexDocuments>>
{
    public async Task Consume(ConsumeContext<Fault<ReindexDocuments>> context)
    {
        var message = context.Message.Message;
        var reason = context.Message.Exceptions.FirstOrDefault()?.Message ?? "re-embedding failed";
        await store.RecordJobItemsAsync(message.JobId,
            [.. message.DocumentIds.Select(id => new JobItemResult(id, 0, JobItemOutcome.Failed, $"Gave up after retries: {reason}"))],
            context.CancellationToken);
        await collections.FinishReindexAsync(message.Collection, message.JobId, context.CancellationToken);
    }
}
