using RagPlatform.Core.Errors;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

/// <summary>How the worker asks a provider for document vectors, whether for a collection or for a re-index.</summary>
internal static class ProviderCalls
{
    /// <summary>
    /// Embeds each text of <paramref name="texts"/> (content hash → text) once, in the provider's batch size, and
    /// checks every vector. A bad input fails only its own hash (its reason goes to <paramref name="errors"/>); a
    /// whole call that fails throws <see cref="UpstreamPluginException"/>, so the bus retries the message.
    /// <paramref name="afterBatch"/> gets each batch's (text, vector) pairs as soon as that batch is in.
    /// </summary>
    public static async Task<Dictionary<string, float[]>> EmbedDocumentsAsync(
        IEmbeddingProvider provider,
        IReadOnlyDictionary<string, string> texts,
        Dictionary<string, string> errors,
        Func<IReadOnlyList<KeyValuePair<string, float[]>>, Task>? afterBatch,
        CancellationToken cancellationToken)
    {
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var items = texts.ToList();
        var batchSize = Math.Max(1, provider.MaxBatchSize);
        for (var offset = 0; offset < items.Count; offset += batchSize)
        {
            var batch = items.GetRange(offset, Math.Min(batchSize, items.Count - offset));
            IReadOnlyList<EmbeddingResult> results;
            try
            {
                results = await provider.EmbedAsync(batch.Select(i => i.Value).ToList(), EmbeddingPurpose.Document, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new UpstreamPluginException($"Embedding provider {provider.Fingerprint.Provider} failed: {ex.Message}", ex);
            }

            if (results.Count != batch.Count)
            {
                throw new UpstreamPluginException(
                    $"Embedding provider {provider.Fingerprint.Provider} returned {results.Count} results for {batch.Count} inputs.");
            }

            var embedded = new List<KeyValuePair<string, float[]>>(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                var (hash, text) = batch[i];
                if (!results[i].Succeeded)
                {
                    errors[hash] = results[i].Error ?? "embedding failed";
                    continue;
                }

                try
                {
                    VectorMath.Validate(results[i].Vector, provider.Fingerprint.Dimensions, hash);
                    vectors[hash] = results[i].Vector!;
                    embedded.Add(new KeyValuePair<string, float[]>(text, results[i].Vector!));
                }
                catch (InvalidVectorException ex)
                {
                    errors[hash] = $"The embedding provider returned an invalid vector: {ex.Message}";
                }
            }

            if (afterBatch is not null && embedded.Count > 0)
            {
                await afterBatch(embedded);
            }
        }

        return vectors;
    }
}
