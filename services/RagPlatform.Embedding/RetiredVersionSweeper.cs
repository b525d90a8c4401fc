using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Embedding;

/// <summary>
/// Drops the versions re-indexes switched away from once their grace period (<c>RagPlatform:VectorStore:RetiredVersionGraceSeconds</c>)
/// has passed, including those a restart interrupted. Several workers may sweep at once: dropping is idempotent.
/// </summary>
public sealed class RetiredVersionSweeper(CollectionService collections, IOptions<RagPlatformOptions> options, ILogger<RetiredVersionSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.VectorStore.RetiredVersionGraceSeconds / 2.0, 1, 30));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await collections.DropExpiredVersionsAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Dropping retired collection versions failed; tried again at the next tick");
            }
        }
    }
}
