using MassTransit;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Messages;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Storage;

namespace RagPlatform.Embedding;

/// <summary>Embeds the documents of one message (see <see cref="DocumentEmbedder"/>).</summary>
public sealed class EmbedDocumentsConsumer(DocumentEmbedder embedder) : IConsumer<EmbedDocuments>
{
    public Task Consume(ConsumeContext<EmbedDocuments> context) => embedder.ProcessAsync(context.Message, context.CancellationToken);
}

/// <summary>
/// Retries a failing message with backoff (a provider or backend that is briefly down), and caps how
/// many messages one process embeds at once so a model is not oversubscribed.
/// </summary>
public sealed class EmbedDocumentsConsumerDefinition : ConsumerDefinition<EmbedDocumentsConsumer>
{
    private readonly MessagingOptions _options;

    public EmbedDocumentsConsumerDefinition(IOptions<RagPlatformOptions> options)
    {
        _options = options.Value.Messaging;
        EndpointName = "embed-documents";
        ConcurrentMessageLimit = _options.ConcurrentMessageLimit;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EmbedDocumentsConsumer> consumerConfigurator,
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

/// <summary>
/// When a message has used up its retries, its documents fail in their job with the reason, so a job
/// always finishes and nothing is silently lost. (In distributed mode the message also sits in the
/// error queue for inspection.)
/// </summary>
public sealed class EmbedDocumentsFaultConsumer(IDocumentStore store) : IConsumer<Fault<EmbedDocuments>>
{
    public Task Consume(ConsumeContext<Fault<EmbedDocuments>> context)
    {
        var message = context.Message.Message;
        var reason = context.Message.Exceptions.FirstOrDefault()?.Message ?? "embedding failed";
        var results = message.Documents
            .Select(d => new JobItemResult(d.DocumentId, d.Revision, JobItemOutcome.Failed, $"Gave up after retries: {reason}"))
            .ToList();
        return store.CompleteItemsAsync(message.Collection, message.JobId, results, context.CancellationToken);
    }
}
