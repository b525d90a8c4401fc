using System.Globalization;
using Microsoft.Extensions.AI;
using RagPlatform.Sdk;

namespace RagPlatform.Extensions.AI;

/// <summary>
/// Any RagPlatform embedding provider (hashing, onnx, openai…) as Microsoft.Extensions.AI's
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>. The model id is the provider's fingerprint
/// (<c>hashing/korean-ngram-v1@1;dim=1024;pool=none;norm=l2</c>): two vectors are comparable exactly when their ids are equal.
/// Usage is the provider's token count. IEmbeddingGenerator has no per-input failure, so an input the provider refuses
/// fails the call with <see cref="EmbeddingInputException"/> naming it.
/// </summary>
public sealed class EmbeddingProviderGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Set <c>options.AdditionalProperties["purpose"] = "query"</c> to embed queries (e5-style models embed them differently).</summary>
    public const string PurposeProperty = "purpose";

    private readonly IEmbeddingProvider _provider;
    private readonly EmbeddingPurpose _purpose;
    private readonly bool _ownsProvider;

    public EmbeddingProviderGenerator(IEmbeddingProvider provider, EmbeddingPurpose purpose = EmbeddingPurpose.Document, bool ownsProvider = false)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
        _purpose = purpose;
        _ownsProvider = ownsProvider;
        var fingerprint = provider.Fingerprint;
        Metadata = new EmbeddingGeneratorMetadata(fingerprint.Provider, null, fingerprint.ToString(), fingerprint.Dimensions);
    }

    public EmbeddingGeneratorMetadata Metadata { get; }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var fingerprint = _provider.Fingerprint;
        if (options?.Dimensions is { } dimensions && dimensions != fingerprint.Dimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{fingerprint} produces {fingerprint.Dimensions} dimensions; it cannot return {dimensions}."), nameof(options));
        }

        if (options?.ModelId is { Length: > 0 } model && !string.Equals(model, Metadata.DefaultModelId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"This generator embeds with {Metadata.DefaultModelId}, not '{model}'.", nameof(options));
        }

        var purpose = ReadPurpose(options) ?? _purpose;
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        var batchSize = Math.Max(1, _provider.MaxBatchSize);
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(inputs.Count);
        long tokens = 0;
        var modelId = fingerprint.ToString();
        for (var offset = 0; offset < inputs.Count; offset += batchSize)
        {
            var batch = inputs.Skip(offset).Take(batchSize).ToList();
            var results = await _provider.EmbedAsync(batch, purpose, cancellationToken);
            if (results.Count != batch.Count)
            {
                throw new InvalidOperationException($"{modelId} answered {results.Count} results for {batch.Count} inputs.");
            }

            for (var i = 0; i < results.Count; i++)
            {
                var result = results[i];
                if (!result.Succeeded)
                {
                    throw new EmbeddingInputException(offset + i, result.Error ?? "embedding failed");
                }

                tokens += result.Tokens;
                embeddings.Add(new Embedding<float>(result.Vector) { ModelId = modelId, CreatedAt = DateTimeOffset.UtcNow });
            }
        }

        embeddings.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return embeddings;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : serviceType.IsInstanceOfType(_provider) ? _provider
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
        if (_ownsProvider)
        {
            _provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static EmbeddingPurpose? ReadPurpose(EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(PurposeProperty, out var value) == true
            ? value?.ToString() switch
            {
                "query" or "Query" => EmbeddingPurpose.Query,
                "document" or "Document" => EmbeddingPurpose.Document,
                var other => throw new ArgumentException($"purpose is 'query' or 'document' (got '{other}').", nameof(options)),
            }
            : null;
}

/// <summary>One input of a batch was refused by the provider (too long, empty…); the batch produced no embeddings.</summary>
public sealed class EmbeddingInputException(int index, string error)
    : InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"input[{index}]: {error}"))
{
    /// <summary>The position of the refused input in the values passed to GenerateAsync.</summary>
    public int Index { get; } = index;

    public string Error { get; } = error;
}

public static class EmbeddingProviderGeneratorExtensions
{
    /// <summary>This provider as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (the provider stays the caller's to dispose).</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsEmbeddingGenerator(this IEmbeddingProvider provider, EmbeddingPurpose purpose = EmbeddingPurpose.Document) =>
        new EmbeddingProviderGenerator(provider, purpose);
}
