using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Query;

/// <summary>
/// The query API's read fallback chain (<c>RagPlatform:VectorStore:Fallback</c>): a search goes to the collection's
/// own backend; when that backend fails, to each fallback backend in order that holds the collection with the same
/// model fingerprint — never to one in another vector space. Bad requests (wrong vector size) and cancellation are
/// not failures of the backend and are not retried elsewhere. When every backend fails, the first error stands.
/// </summary>
public sealed class VectorSearchFallback(
    PluginHost plugins,
    IOptions<RagPlatformOptions> options,
    ILogger<VectorSearchFallback> logger,
    IMeterFactory meterFactory)
{
    private readonly IReadOnlyList<string> _fallbacks = [.. options.Value.VectorStore.Fallback.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim())];
    private readonly Counter<long> _fallbackSearches = meterFactory.Create("RagPlatform.Query")
        .CreateCounter<long>("ragplatform.search.fallbacks", unit: "{search}", description: "Searches answered by a fallback vector backend, by backend.");

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(ResolvedCollection collection, VectorQuery query, CancellationToken cancellationToken)
    {
        try
        {
            return await collection.Backend.SearchAsync(collection.VectorName, query, cancellationToken);
        }
        catch (Exception primaryError) when (_fallbacks.Count > 0 && IsBackendFailure(primaryError, cancellationToken))
        {
            var primary = collection.Record.Settings.VectorBackend;
            foreach (var name in _fallbacks.Where(n => !string.Equals(n, primary, StringComparison.OrdinalIgnoreCase)))
            {
                try
                {
                    var backend = await plugins.GetVectorBackendAsync(name, cancellationToken);
                    var spec = await backend.GetCollectionAsync(collection.VectorName, cancellationToken);
                    if (spec is null || spec.Fingerprint.ToString() != collection.Record.Fingerprint)
                    {
                        logger.LogWarning("Fallback backend {Backend} does not hold collection {Collection} in its vector space; skipped", name, collection.Name);
                        continue;
                    }

                    var hits = await backend.SearchAsync(collection.VectorName, query, cancellationToken);
                    logger.LogWarning(
                        "Vector backend {Primary} failed a search of {Collection} ({Error}); answered by fallback {Backend}",
                        primary, collection.Name, primaryError.GetType().Name, name);
                    _fallbackSearches.Add(1, new KeyValuePair<string, object?>("backend", name));
                    return hits;
                }
                catch (Exception fallbackError) when (IsBackendFailure(fallbackError, cancellationToken))
                {
                    logger.LogWarning("Fallback backend {Backend} failed too ({Error})", name, fallbackError.GetType().Name);
                }
            }

            throw;
        }
    }

    private static bool IsBackendFailure(Exception error, CancellationToken cancellationToken) => error switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => false,
        ArgumentException => false, // includes InvalidVectorException: the request is wrong everywhere
        _ => true,
    };
}
