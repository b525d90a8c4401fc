using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Lexical;
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

    /// <summary>The backend collection of the active version: every vector read and write of the collection goes there.</summary>
    public string VectorName => Record.VectorName;
}

/// <summary>The version a running re-index builds, with the plugin instances that build it.</summary>
public sealed record ReindexTarget(CollectionReindex Reindex, IEmbeddingProvider Provider, IVectorBackend Backend, string VectorName);

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

    /// <summary>The version a running re-index of <paramref name="record"/> builds, or null when none runs.</summary>
    public async Task<ReindexTarget?> ResolveReindexTargetAsync(CollectionRecord record, CancellationToken cancellationToken) =>
        record.Reindex is { IsRunning: true } reindex
            ? new ReindexTarget(reindex, await plugins.GetEmbeddingProviderAsync(reindex.Settings.Embedding, cancellationToken),
                await plugins.GetVectorBackendAsync(reindex.Settings.VectorBackend, cancellationToken), PhysicalNames.Of(record.Name, reindex.TargetVersion))
            : null;

    public async Task<ResolvedCollection> ResolveAsync(string name, CancellationToken cancellationToken) =>
        await ResolveAsync(await GetRequiredAsync(name, cancellationToken), cancellationToken);

    public async Task<ResolvedCollection> ResolveAsync(CollectionRecord record, CancellationToken cancellationToken)
    {
        var provider = await CreateProviderAsync(record.Settings.Embedding, "embedding", cancellationToken);
        var backend = await plugins.GetVectorBackendAsync(record.Settings.VectorBackend, cancellationToken);
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

        return await ResolveAsync(record, cancellationToken);
    }

    /// <summary>Creates the collection or updates its settings. Returns the record and whether it was created.</summary>
    public async Task<(CollectionRecord Record, bool Created)> PutAsync(string name, CollectionSettingsInput input, CancellationToken cancellationToken)
    {
        CollectionNames.Validate(name);
        var existing = await store.GetCollectionAsync(name, cancellationToken);
        if (existing is null)
        {
            CollectionNames.ValidateNew(name);
        }

        var current = existing?.Settings ?? Defaults;
        var settings = Merge(current, input);
        var provider = await CreateProviderAsync(settings.Embedding, "embedding.provider", cancellationToken);
        var backend = await GetBackendAsync(settings.VectorBackend, cancellationToken);

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
            if ((modelChanges || backendChanges) && (counts.Chunks + counts.Pending > 0 || existing.Reindex is { IsRunning: true }))
            {
                throw new ResourceConflictException(modelChanges
                    ? $"Collection '{name}' holds vectors of {existing.Fingerprint}; {fingerprint} is a different vector space. " +
                      $"A collection never mixes models: re-index it with POST /v1/collections/{name}/reindex instead."
                    : $"Collection '{name}' holds points in backend '{existing.Settings.VectorBackend}'; re-index (POST /v1/collections/{name}/reindex) or migrate them instead of switching in place.");
            }

            if (modelChanges || backendChanges)
            {
                await (await plugins.GetVectorBackendAsync(existing.Settings.VectorBackend, cancellationToken)).DeleteCollectionAsync(existing.VectorName, cancellationToken);
            }
        }

        var vectorName = existing?.VectorName ?? name;
        await backend.EnsureCollectionAsync(
            new VectorCollectionSpec(vectorName, fingerprint.Dimensions, DistanceMetric.Cosine, fingerprint), cancellationToken);
        await ActivateAsync(backend, name, vectorName, cancellationToken);

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
        // Vectors and terms first: a retried delete finds the metadata still there and finishes the job. Every
        // physical version goes: the active one, one being built, one retired and not yet dropped.
        await (await plugins.GetVectorBackendAsync(record.Settings.VectorBackend, cancellationToken)).DeleteCollectionAsync(record.VectorName, cancellationToken);
        if (record.Reindex is { } reindex)
        {
            await (await plugins.GetVectorBackendAsync(reindex.Settings.VectorBackend, cancellationToken)).DeleteCollectionAsync(PhysicalNames.Of(name, reindex.TargetVersion), cancellationToken);
        }

        if (record.Retired is { } retired)
        {
            await (await plugins.GetVectorBackendAsync(retired.VectorBackend, cancellationToken)).DeleteCollectionAsync(PhysicalNames.Of(name, retired.Version), cancellationToken);
        }

        await lexical.DeleteCollectionAsync(name, cancellationToken);
        await store.DeleteCollectionAsync(name, cancellationToken);
        logger.LogInformation("Collection {Collection} deleted", name);
    }

    private async Task<CollectionStats> ToStatsAsync(CollectionRecord record, CancellationToken cancellationToken)
    {
        var counts = await store.GetCountsAsync(record.Name, cancellationToken);
        ReindexStatus? reindex = null;
        if (record.Reindex is { } pending)
        {
            var job = await store.GetJobAsync(pending.JobId, cancellationToken);
            reindex = new ReindexStatus(pending.TargetVersion, pending.State, pending.Fingerprint, pending.Settings.VectorBackend,
                PhysicalNames.Of(record.Name, pending.TargetVersion), pending.JobId, job?.Total ?? 0, job?.Processed ?? 0, job?.Failed ?? 0,
                pending.Error, pending.StartedAt);
        }

        return new CollectionStats(record.Name, record.Settings, record.Fingerprint, counts.Documents, counts.Chunks,
            counts.Chunks, counts.Pending, record.Version, record.CreatedAt, record.UpdatedAt, record.ActiveVersion, record.VectorName, reindex);
    }

    /// <summary>
    /// Starts building the collection's next version with a new embedding (and optionally vector backend): the version's
    /// backend collection is created and the re-index recorded with its job. Searches and ingestion keep using the active
    /// version. Returns the record and the documents the caller queues for copying.
    /// </summary>
    public async Task<(CollectionRecord Record, IReadOnlyList<string> Documents)> BeginReindexAsync(
        string name, ReindexRequest? request, CancellationToken cancellationToken)
    {
        var record = await GetRequiredAsync(name, cancellationToken);
        if (record.Reindex is { IsRunning: true } running)
        {
            throw new ResourceConflictException(
                $"Collection '{name}' is already being re-indexed into version {running.TargetVersion} (job {running.JobId}).");
        }

        var settings = Merge(record.Settings, new CollectionSettingsInput(request?.Embedding, request?.VectorBackend, null));
        var provider = await CreateProviderAsync(settings.Embedding, "embedding.provider", cancellationToken);
        var backend = await GetBackendAsync(settings.VectorBackend, cancellationToken);

        if (settings.Chunking.MaxTokens > provider.MaxInputTokens)
        {
            throw new RequestValidationException("embedding.provider",
                $"The collection's chunks hold up to {settings.Chunking.MaxTokens} tokens, more than the model's input limit ({provider.MaxInputTokens}).");
        }

        var fingerprint = provider.Fingerprint;
        if (fingerprint.ToString() == record.Fingerprint
            && string.Equals(settings.VectorBackend, record.Settings.VectorBackend, StringComparison.OrdinalIgnoreCase))
        {
            throw new ResourceConflictException(
                $"Collection '{name}' is already embedded with {fingerprint} in backend '{record.Settings.VectorBackend}': nothing to re-index.");
        }

        // A failed attempt's number is not reused: its backend collection may not have been dropped yet.
        var target = Math.Max(record.ActiveVersion, record.Reindex?.TargetVersion ?? 0) + 1;
        var vectorName = PhysicalNames.Of(name, target);
        await backend.EnsureCollectionAsync(new VectorCollectionSpec(vectorName, fingerprint.Dimensions, DistanceMetric.Cosine, fingerprint), cancellationToken);
        var reindex = new CollectionReindex(target, settings, fingerprint.ToString(), Guid.NewGuid(), ReindexStates.Running, null, DateTimeOffset.UtcNow);
        var documents = await store.BeginReindexAsync(name, reindex, cancellationToken)
            ?? throw new ResourceConflictException($"Collection '{name}' is already being re-indexed.");
        logger.LogInformation("Collection {Collection}: re-index into version {Version} ({VectorName}, {Fingerprint}) started for {Documents} documents",
            name, target, vectorName, fingerprint, documents.Count);
        return (await GetRequiredAsync(name, cancellationToken), documents);
    }

    /// <summary>
    /// Called whenever items of a re-index job were recorded: once every document is copied, switches the collection
    /// to the new version in one metadata transaction (or, when some failed, gives the re-index up).
    /// </summary>
    public async Task FinishReindexAsync(string name, Guid jobId, CancellationToken cancellationToken)
    {
        var job = await store.GetJobAsync(jobId, cancellationToken);
        var record = await store.GetCollectionAsync(name, cancellationToken);
        if (job is null || job.Processed < job.Total || record?.Reindex is not { IsRunning: true } reindex || reindex.JobId != jobId)
        {
            return;
        }

        if (job.Failed > 0)
        {
            var first = job.Errors.Count > 0 ? job.Errors[0] : null;
            await FailReindexAsync(name, jobId,
                $"{job.Failed} of {job.Total} documents could not be re-embedded" + (first is null ? "." : $" (first: {first.Id}: {first.Error})."),
                cancellationToken);
            return;
        }

        // A version retired by an earlier switch has been out of use for at least this whole re-index: drop it now
        // rather than lose track of it when the pointer moves again.
        if (record.Retired is not null)
        {
            await DropRetiredAsync(record, cancellationToken);
        }

        var grace = TimeSpan.FromSeconds(_options.VectorStore.RetiredVersionGraceSeconds);
        var retired = new RetiredVersion(record.ActiveVersion, record.Settings.VectorBackend, DateTimeOffset.UtcNow + grace);
        if (!await store.SwitchVersionAsync(name, jobId, retired, cancellationToken))
        {
            return;
        }

        logger.LogInformation("Collection {Collection} switched from version {Old} to {New} ({Fingerprint}); the old version is dropped after {Grace}",
            name, record.ActiveVersion, reindex.TargetVersion, reindex.Fingerprint, grace);
        await ActivateAsync(await plugins.GetVectorBackendAsync(reindex.Settings.VectorBackend, cancellationToken), name, PhysicalNames.Of(name, reindex.TargetVersion), cancellationToken);
        if (grace == TimeSpan.Zero)
        {
            await DropRetiredAsync(await GetRequiredAsync(name, cancellationToken), cancellationToken);
        }
    }

    /// <summary>Tells a backend that keeps a stable name for the active version (Qdrant's alias) which one it is now.</summary>
    private async Task ActivateAsync(IVectorBackend backend, string name, string physical, CancellationToken cancellationToken)
    {
        if (backend is not IActiveCollectionAware aware)
        {
            return;
        }

        try
        {
            await aware.ActivateAsync(name, physical, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Collection {Collection}: the backend could not point its stable name at {Physical}; searches are unaffected", name, physical);
        }
    }

    /// <summary>Gives a running re-index up: the active version stays, the version being built is dropped.</summary>
    public async Task FailReindexAsync(string name, Guid jobId, string error, CancellationToken cancellationToken)
    {
        var record = await store.GetCollectionAsync(name, cancellationToken);
        if (record?.Reindex is not { } reindex || reindex.JobId != jobId || !await store.FailReindexAsync(name, jobId, error, cancellationToken))
        {
            return;
        }

        logger.LogWarning("Collection {Collection}: re-index into version {Version} failed; version {Active} stays active. {Error}",
            name, reindex.TargetVersion, record.ActiveVersion, error);
        await (await plugins.GetVectorBackendAsync(reindex.Settings.VectorBackend, cancellationToken)).DeleteCollectionAsync(PhysicalNames.Of(name, reindex.TargetVersion), cancellationToken);
    }

    /// <summary>Drops every retired version whose grace period has passed; returns how many were dropped.</summary>
    public async Task<int> DropExpiredVersionsAsync(CancellationToken cancellationToken)
    {
        var dropped = 0;
        foreach (var record in await store.ListCollectionsAsync(cancellationToken))
        {
            if (record.Retired is { } retired && retired.DropAfter <= DateTimeOffset.UtcNow)
            {
                await DropRetiredAsync(record, cancellationToken);
                dropped++;
            }
        }

        return dropped;
    }

    private async Task DropRetiredAsync(CollectionRecord record, CancellationToken cancellationToken)
    {
        if (record.Retired is not { } retired)
        {
            return;
        }

        await (await plugins.GetVectorBackendAsync(retired.VectorBackend, cancellationToken)).DeleteCollectionAsync(PhysicalNames.Of(record.Name, retired.Version), cancellationToken);
        await store.ClearRetiredAsync(record.Name, retired.Version, cancellationToken);
        logger.LogInformation("Collection {Collection}: retired version {Version} dropped", record.Name, retired.Version);
    }

    private async Task<IEmbeddingProvider> CreateProviderAsync(EmbeddingSelection selection, string field, CancellationToken cancellationToken)
    {
        try
        {
            return await plugins.GetEmbeddingProviderAsync(selection, cancellationToken);
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

    private async Task<IVectorBackend> GetBackendAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await plugins.GetVectorBackendAsync(name, cancellationToken);
        }
        catch (PluginNotFoundException ex)
        {
            throw new RequestValidationException("vectorBackend", ex.Message);
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
