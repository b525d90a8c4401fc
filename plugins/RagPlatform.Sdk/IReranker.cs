using Microsoft.Extensions.Configuration;

namespace RagPlatform.Sdk;

/// <summary>A candidate passage for <see cref="IReranker"/>: the chunk's id, its document's title and its text.</summary>
public sealed record RerankCandidate(string Id, string? Title, string Text);

/// <summary>
/// Re-scores a query's candidates, typically with a cross-encoder that reads query and passage together
/// (too slow for the whole collection, affordable for the few dozen fused candidates). Higher is better.
/// </summary>
public interface IReranker : IAsyncDisposable
{
    /// <summary>One score per candidate, in the candidates' order.</summary>
    Task<IReadOnlyList<float>> ScoreAsync(string query, IReadOnlyList<RerankCandidate> candidates, CancellationToken cancellationToken);
}

/// <summary>Registration entry point of a reranker plugin.</summary>
public interface IRerankerPlugin
{
    /// <summary>The name configuration uses to choose this reranker (<c>RagPlatform:Query:Reranker</c>).</summary>
    string Name { get; }

    /// <summary>Creates the reranker from its settings (<c>RagPlatform:Query:Rerankers:&lt;name&gt;</c>).
    /// Called once per process; the host shares the instance.</summary>
    ValueTask<IReranker> CreateAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The problems with the plugin's settings (<paramref name="settings"/> is its section), each naming its
    /// configuration key, without creating anything. The host calls it at start for every configured section of
    /// the plugin, so a bad value stops start-up. The default finds none.
    /// </summary>
    IReadOnlyList<string> ValidateSettings(IConfiguration settings) => [];
}
