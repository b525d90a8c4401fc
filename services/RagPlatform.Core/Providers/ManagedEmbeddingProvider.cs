using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Providers;

/// <summary>One provider of a chain: its configured name, the plugin instance and its price.</summary>
public sealed record ChainMember(string Name, IEmbeddingProvider Provider, decimal PricePer1KTokens);

/// <summary>
/// A configured provider as collections see it: the purpose picks a chain (routes), the chain is tried in order
/// (fallback), each paid call is checked against the monthly budget and its tokens are charged to the ledger.
/// Every member produces the primary's vector space (checked when the chain is built), so whichever member
/// answers, the collection never mixes models. It reports the primary's fingerprint.
/// </summary>
public sealed class ManagedEmbeddingProvider : IEmbeddingProvider
{
    private readonly IReadOnlyList<ChainMember> _documents;
    private readonly IReadOnlyList<ChainMember> _queries;
    private readonly EmbeddingSpendLedger? _ledger;
    private readonly ILogger _logger;

    public ManagedEmbeddingProvider(
        string name, IReadOnlyList<ChainMember> documents, IReadOnlyList<ChainMember> queries, EmbeddingSpendLedger? ledger, ILogger logger)
    {
        Name = name;
        _documents = documents;
        _queries = queries;
        _ledger = ledger;
        _logger = logger;
        var primary = documents[0].Provider;
        Fingerprint = primary.Fingerprint;
        var all = documents.Concat(queries).Select(m => m.Provider).Distinct().ToList();
        MaxInputTokens = all.Min(p => p.MaxInputTokens);
        MaxBatchSize = all.Min(p => p.MaxBatchSize);
        Members = all;
    }

    public string Name { get; }

    public IReadOnlyList<IEmbeddingProvider> Members { get; }

    public ModelFingerprint Fingerprint { get; }

    public int MaxInputTokens { get; }

    public int MaxBatchSize { get; }

    /// <summary>Cached when any member is worth caching: a fallback to a costly member must not pay twice.</summary>
    public bool CacheVectors => Members.Any(m => m.CacheVectors);

    /// <summary>The largest count of any member, so a chunk fits whichever member embeds it.</summary>
    public int CountTokens(string text) => Members.Max(p => p.CountTokens(text));

    public async Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken)
    {
        var chain = purpose == EmbeddingPurpose.Query ? _queries : _documents;
        var failures = new List<string>();
        Exception? last = null;
        for (var i = 0; i < chain.Count; i++)
        {
            var member = chain[i];
            if (member.PricePer1KTokens > 0 && _ledger?.Refusal(purpose) is { } refusal)
            {
                failures.Add($"{member.Name}: {refusal}");
                last = new EmbeddingBudgetExceededException(refusal);
                continue;
            }

            IReadOnlyList<EmbeddingResult> results;
            try
            {
                results = await member.Provider.EmbedAsync(inputs, purpose, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{member.Name}: {ex.Message}");
                last = ex;
                if (i + 1 < chain.Count)
                {
                    _logger.LogWarning("Embedding provider {Provider} failed ({Error}); falling back to {Next} (same vector space {Fingerprint})",
                        member.Name, ex.Message, chain[i + 1].Name, Fingerprint);
                }

                continue;
            }

            _ledger?.Record(member.Name, results.Sum(r => (long)r.Tokens), member.PricePer1KTokens);

            return results;
        }

        throw new EmbeddingChainFailedException(
            chain.Count == 1 ? failures[0] : $"Every provider of '{Name}' failed: {string.Join("; ", failures)}", last);
    }

    /// <summary>The members belong to the plugin host, which disposes them.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Every provider of a chain failed (or was refused by the budget); the message names each reason.</summary>
public sealed class EmbeddingChainFailedException(string message, Exception? inner) : Exception(message, inner);

/// <summary>The monthly embedding budget is spent and the policy stops this call.</summary>
public sealed class EmbeddingBudgetExceededException(string message) : Exception(message);
