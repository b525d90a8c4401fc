using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Lexical;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Providers;
using RagPlatform.Core.Storage;
using RagPlatform.Core.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Collections;

/// <summary>A collection with the plugin instances that serve it.</summary>
public sealed record ResolvedCollection(
    CollectionRecord Record,
    IEmbeddingProvider Provider,
    IVectorBackend Backend,
    KoreanChunker Chunker)
{
    public string Name => Record.Name;
}

/// <summary>Creates, configures and resolves collections. A collection never mixes vector spaces.</summary>
public sealed class CollectionService(
    IMetadataStore store,
    PluginHost plugins,
    ILexicalIndex lexical,
    IOptions<RagPlatformOptions> options,
    ILogger<CollectionService> logger,
    IConfiguration configuration,
    EmbeddingSpendLedger spend)
{
    private readonly RagPlatformOptions _options = options.Value;

    /// <summary>The settings a new collection gets; its provider follows the budget policy (docs/openai.md).</summary>
    public CollectionSettings Defaults => new(
        new EmbeddingSelection(
            spend.ProviderForNewCollection(_options.Embedding.Provider, EmbeddingProviderDefinition.Read(configuration, _options.Embedding.Provider).PricePer1KTokens),
            new Dictionary<string, string?>()),
        _options.VectorStore.Backend,
        new ChunkingSettings(_options.Chunking.MaxTokens, _options.Chunking.OverlapTokens));

    public async Task<CollectionRecord> GetRequiredAsync(string name, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(name);
        return await store.GetCollectionAsync(name, cancellationToken)
            ?? throw new ResourceNotFoundException($"Collection '{name}' does not exist.");
    }

    public async Task<ResolvedCollection> ResolveAsync(string name, CancellationToken cancellationToken) =>
        Resolve(await GetRequiredAsync(name, cancellationToken));

    public ResolvedCollection Resolve(CollectionRecord record)
    {
        var provider = CreateProvider(record.Settings.Embedding, "embedding");
        var backend = plugins.GetVectorBackend(record.Settings.VectorBackend);
        var chunking = record.Settings.Chunking;
        return new ResolvedCollection(record, provider, backend,
            new KoreanChunker(chunking.MaxTokens, chunking.OverlapTokens, provider.CountTokens));
    }

    /// <summary>The collection for an ingestion batch; created with the defaults when allowed.</summary>
    public async Task<ResolvedCollection> GetOrCreateForIngestionAsync(string name, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(name);
        var record = await store.GetCollectionAsync(name, cancellationToken);
        if (record is null)
        {
            if (!_options.Ingestion.AutoCreateCollections)
            {
                throw new ResourceNotFoundException(
                    $"Collection '{name}' does not exist. Create it with PUT /v1/collections/{name} (automatic creation is off).");
            }

            (record, _) = await PutAsync(name, new CollectionSettingsInput(null, null, null), cancellationToken);
        }

        return Resolve(record);
    }

    /// <summary>Creates the collection or updates its settings. Returns the record and whether it was created.</summary>
    public async Task<(CollectionRecord Record, bool Created)> PutAsync(string name, CollectionSettingsInput input, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(name);
        var existing = await store.GetCollectionAsync(name, cancellationToken);
        var current = existing?.Settings ?? Defaults;
        var settings = Merge(current, input);
        var provider = CreateProvider(settings.Embedding, "embedding.provider");
        IVectorBackend backend;
        try
        {
            backend = plugins.GetVectorBackend(settings.VectorBackend);
        }
        catch (PluginNotFoundException ex)
        {
            throw new RequestValidationException("vectorBackend", ex.Message);
        }

        if (settings.Chunking.MaxTokens > provider.MaxInputTokens)
        {
            throw new RequestValidationException("chunking.maxTokens",
                $"maxTokens ({settings.Chunking.MaxTokens}) exceeds the model's input limit ({provider.MaxInputTokens}).");
        }

        var fingerprint = provider.Fingerprint;
        if (existing is not null)
        {
            var counts = await store.GetCountsAsync(name, cancellationToken);
            var modelChanges = existing.Fingerprint is not null && existing.Fingerprint != fingerprint.ToString();
            var backendChanges = !string.Equals(existing.Settings.VectorBackend, settings.VectorBackend, StringComparison.OrdinalIgnoreCase);
            if ((modelChanges || backendChanges) && counts.Chunks + counts.Pending > 0)
            {
                throw new ResourceConflictException(modelChanges
                    ? $"Collection '{name}' holds vectors of {existing.Fingerprint}; {fingerprint} is a different vector space. " +
                      "A collection never mixes models: ingest into a new collection (re-index) instead."
                    : $"Collection '{name}' holds points in backend '{existing.Settings.VectorBackend}'; migrate them instead of switching in place.");
            }

            if (modelChanges || backendChanges)
            {
                await plugins.GetVectorBackend(existing.Settings.VectorBackend).DeleteCollectionAsync(name, cancellationToken);
            }
        }

        await backend.EnsureCollectionAsync(
            new VectorCollectionSpec(name, fingerprint.Dimensions, DistanceMetric.Cosine, fingerprint), cancellationToken);

        if (existing is null)
        {
            var now = DateTimeOffset.UtcNow;
            var created = await store.TryCreateCollectionAsync(
                new CollectionRecord(name, settings, fingerprint.ToString(), 0, now, now), cancellationToken);
            logger.LogInformation("Collection {Collection} created with {Fingerprint} on {Backend}", name, fingerprint, settings.VectorBackend);
            var record = await GetRequiredAsync(name, cancellationToken);
            return (record, created);
        }

        await store.UpdateCollectionAsync(name, settings, fingerprint.ToString(), cancellationToken);
        return (await GetRequiredAsync(name, cancellationToken), false);
    }

    public async Task<CollectionStats> GetStatsAsync(string name, CancellationToken cancellationToken) =>
        await ToStatsAsync(await GetRequiredAsync(name, cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<CollectionStats>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<CollectionStats>();
        foreach (var record in await store.ListCollectionsAsync(cancellationToken))
        {
            list.Add(await ToStatsAsync(record, cancellationToken));
        }

        return list;
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var record = await GetRequiredAsync(name, cancellationToken);
        // Vectors and terms first: a retried delete finds the metadata still there and finishes the job.
        await plugins.GetVectorBackend(record.Settings.VectorBackend).DeleteCollectionAsync(name, cancellationToken);
        await lexical.DeleteCollectionAsync(name, cancellationToken);
        await store.DeleteCollectionAsync(name, cancellationToken);
        logger.LogInformation("Collection {Collection} deleted", name);
    }

    private async Task<CollectionStats> ToStatsAsync(CollectionRecord record, CancellationToken cancellationToken)
    {
        var counts = await store.GetCountsAsync(record.Name, cancellationToken);
        return new CollectionStats(record.Name, record.Settings, record.Fingerprint, counts.Documents, counts.Chunks,
            counts.Chunks, counts.Pending, record.Version, record.CreatedAt, record.UpdatedAt);
    }

    private IEmbeddingProvider CreateProvider(EmbeddingSelection selection, string field)
    {
        try
        {
            return plugins.GetEmbeddingProvider(selection);
        }
        catch (PluginNotFoundException ex)
        {
            throw new RequestValidationException(field, ex.Message);
        }
        catch (PluginConfigurationException ex)
        {
            throw new RequestValidationException("embedding.settings", ex.Message);
        }
    }

    private static CollectionSettings Merge(CollectionSettings current, CollectionSettingsInput input)
    {
        var embedding = current.Embedding;
        if (input.Embedding is { } e)
        {
            var provider = string.IsNullOrWhiteSpace(e.Provider) ? embedding.Provider : e.Provider.Trim();
            var providerChanged = !string.Equals(provider, embedding.Provider, StringComparison.OrdinalIgnoreCase);
            var settings = e.Settings is not null
                ? new Dictionary<string, string?>(e.Settings, StringComparer.Ordinal)
                : providerChanged ? new Dictionary<string, string?>() : embedding.Settings;
            foreach (var key in settings.Keys)
            {
                if (string.IsNullOrWhiteSpace(key) || key.Length > 128)
                {
                    throw new RequestValidationException("embedding.settings", "Setting names must be 1-128 characters.");
                }
            }

            embedding = new EmbeddingSelection(provider, settings);
        }

        var backend = string.IsNullOrWhiteSpace(input.VectorBackend) ? current.VectorBackend : input.VectorBackend.Trim();
        var chunking = current.Chunking;
        if (input.Chunking is { } c)
        {
            chunking = new ChunkingSettings(c.MaxTokens ?? chunking.MaxTokens, c.OverlapTokens ?? chunking.OverlapTokens);
            if (chunking.MaxTokens is < 16 or > 8192)
            {
                throw new RequestValidationException("chunking.maxTokens", "maxTokens must be between 16 and 8192.");
            }

            if (chunking.OverlapTokens < 0 || chunking.OverlapTokens >= chunking.MaxTokens)
            {
                throw new RequestValidationException("chunking.overlapTokens", "overlapTokens must be at least 0 and less than maxTokens.");
            }
        }

        return new CollectionSettings(embedding, backend, chunking);
    }
}
