using System.Security.Cryptography;
using System.Text;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(RagPlatform.TestPlugins.Faulty.CountingProviderPlugin))]

namespace RagPlatform.TestPlugins.Faulty;

/// <summary>Provider "counting": deterministic unit vectors from the text's hash; counts every text it is sent.</summary>
public sealed class CountingProviderPlugin : IEmbeddingProviderPlugin
{
    public string Name => "counting";

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IEmbeddingProvider Create(PluginContext context) => new CountingEmbeddingProvider();
}

/// <summary>
/// Reports its calls through <see cref="IEmbeddingProviderUsage"/> (an Sdk type, so a test in another load
/// context can read it): Requests = calls, Tokens = texts embedded.
/// </summary>
public sealed class CountingEmbeddingProvider : IEmbeddingProvider, IEmbeddingProviderUsage
{
    private long _calls;
    private long _texts;

    public ModelFingerprint Fingerprint { get; } = new("counting", "sha-vectors", "1", 32, "none", "l2");

    public int MaxInputTokens => 8192;

    public int MaxBatchSize => 16;

    public int CountTokens(string text) => Math.Max(1, text.Length / 2);

    public Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _texts, inputs.Count);
        var results = inputs.Select(input =>
        {
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(input));
            var vector = digest.Select(b => (b - 127.5f) / 127.5f).ToArray();
            VectorMath.NormalizeInPlace(vector);
            return EmbeddingResult.Success(vector, 1);
        }).ToList();
        return Task.FromResult<IReadOnlyList<EmbeddingResult>>(results);
    }

    public ProviderUsageReport GetUsage() => new("memory://counting", Interlocked.Read(ref _calls), Interlocked.Read(ref _texts), 0, 0, 0, []);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
