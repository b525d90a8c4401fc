using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(RagPlatform.TestPlugins.Faulty.KeywordRerankerPlugin))]

namespace RagPlatform.TestPlugins.Faulty;

public sealed class KeywordRerankerOptions
{
    /// <summary>Candidates whose text contains this word score 1, the rest 0.</summary>
    public string Word { get; set; } = "";
}

/// <summary>Reranker "keyword": a stand-in for a cross-encoder whose preference tests can predict.</summary>
public sealed class KeywordRerankerPlugin : IRerankerPlugin
{
    public string Name => "keyword";

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IReranker> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IReranker Create(PluginContext context) => new KeywordReranker(context.BindOptions<KeywordRerankerOptions>().Word);
}

public sealed class KeywordReranker(string word) : IReranker
{
    public Task<IReadOnlyList<float>> ScoreAsync(string query, IReadOnlyList<RerankCandidate> candidates, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<float>>(
            candidates.Select(c => word.Length > 0 && c.Text.Contains(word, StringComparison.Ordinal) ? 1f : 0f).ToList());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
