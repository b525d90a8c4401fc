using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(RagPlatform.TestPlugins.Faulty.FaultyProviderPlugin))]

namespace RagPlatform.TestPlugins.Faulty;

public sealed class FaultyProviderOptions
{
    /// <summary>What the fingerprint claims.</summary>
    public int Dimensions { get; set; } = 64;

    /// <summary>What the vectors really have (a different number is the fault under test).</summary>
    public int ActualDimensions { get; set; } = 32;

    /// <summary>Inputs containing this text fail individually.</summary>
    public string FailOn { get; set; } = "#fail#";

    /// <summary>A batch containing this text fails as a whole call (the provider is "down").</summary>
    public string ThrowOn { get; set; } = "#throw#";

    /// <summary>When set, every call waits until this file exists: a test holds work at a known point without timing.</summary>
    public string? WaitForFile { get; set; }
}

/// <summary>Provider "faulty": claims one dimension count and returns another.</summary>
public sealed class FaultyProviderPlugin : IEmbeddingProviderPlugin
{
    public string Name => "faulty";

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IEmbeddingProvider Create(PluginContext context) =>
        new FaultyEmbeddingProvider(context.BindOptions<FaultyProviderOptions>());
}

public sealed class FaultyEmbeddingProvider(FaultyProviderOptions options) : IEmbeddingProvider
{
    public ModelFingerprint Fingerprint { get; } = new("faulty", "wrong-dimensions", "1", options.Dimensions, "none", "l2");

    public int MaxInputTokens => 8192;

    public int MaxBatchSize => 16;

    public int CountTokens(string text) => text.Length;

    public async Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken)
    {
        while (options.WaitForFile is { Length: > 0 } gate && !File.Exists(gate))
        {
            await Task.Delay(20, cancellationToken);
        }

        if (inputs.Any(i => i.Contains(options.ThrowOn, StringComparison.Ordinal)))
        {
            throw new HttpRequestException("the faulty provider is unreachable");
        }

        var results = inputs.Select(input =>
        {
            if (input.Contains(options.FailOn, StringComparison.Ordinal))
            {
                return EmbeddingResult.Failure("this input is refused by the faulty provider");
            }

            var vector = new float[options.ActualDimensions];
            vector[input.Length % vector.Length] = 1f;
            return EmbeddingResult.Success(vector, input.Length);
        }).ToList();
        return results;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
