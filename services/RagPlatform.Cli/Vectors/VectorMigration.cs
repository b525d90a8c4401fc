using System.Text.Json;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Vectors;

/// <summary>Where an interrupted migration stopped: how many exported points were written and the id of the last one.</summary>
public sealed record MigrationCheckpoint(
    string Collection, string From, string To, string Fingerprint, long Copied, string? LastId, DateTimeOffset UpdatedAt);

/// <summary>One sample query of the verification: a stored vector searched on both sides.</summary>
public sealed record SampleComparison(string QueryPointId, IReadOnlyList<string> Source, IReadOnlyList<string> Target, bool Identical, bool SameUpToTies);

public sealed record MigrationReport(
    string Collection,
    string From,
    string To,
    string Fingerprint,
    int Dimensions,
    long SourceCount,
    long TargetCount,
    long Copied,
    long Skipped,
    bool Resumed,
    bool Completed,
    bool CountsEqual,
    int Samples,
    int SamplesIdentical,
    int SamplesSameUpToTies,
    double Seconds,
    IReadOnlyList<SampleComparison> Mismatches)
{
    /// <summary>Complete, counts equal, and every sample query ranks the same ids (ties at equal scores may swap).</summary>
    public bool Verified => Completed && CountsEqual && SamplesSameUpToTies == Samples;
}

public sealed record MigrationOptions(
    string Collection,
    string FromLabel,
    string ToLabel,
    string CheckpointPath,
    int BatchSize = 500,
    int SampleQueries = 20,
    int TopK = 10,
    long? MaxPoints = null);

/// <summary>
/// Copies one collection's points (vector + payload; the collection's dimensions, metric and model fingerprint
/// go with it) from one backend to another with <see cref="IVectorBackend.ExportAsync"/> and
/// <see cref="IVectorBackend.ImportAsync"/>, one batch at a time, writing a checkpoint after each batch.
/// <para>
/// Resuming: the SDK's export has no resume token, only the promise that its order is stable while the collection
/// does not change. The checkpoint records how many exported points were written and the last one's id; a resumed
/// run skips that many points and checks that the last skipped one has that id. If it has not (the order changed,
/// or the source was written to), the copy starts over — safe, because imports are upserts by point id.
/// </para>
/// Then it verifies: equal counts, and the same top-k ids for sample queries (stored vectors spread over the export).
/// </summary>
public sealed class VectorMigration(IVectorBackend source, IVectorBackend target, MigrationOptions options, TextWriter log)
{
    private static readonly JsonSerializerOptions Json = new(CliJson.Options) { WriteIndented = true };

    public async Task<MigrationReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var spec = await source.GetCollectionAsync(options.Collection, cancellationToken)
            ?? throw new CliException($"collection '{options.Collection}' does not exist in {options.FromLabel}.");
        try
        {
            await target.EnsureCollectionAsync(spec, cancellationToken);
        }
        catch (VectorCollectionMismatchException e)
        {
            throw new CliException($"{options.ToLabel} already holds '{options.Collection}' in another vector space: {e.Message}");
        }

        var sourceCount = await source.CountAsync(options.Collection, null, cancellationToken);
        var checkpoint = LoadCheckpoint(spec);
        var resumed = checkpoint is { Copied: > 0 };
        if (resumed)
        {
            log.WriteLine($"resuming after {checkpoint!.Copied:N0} points (last id {checkpoint.LastId})");
        }

        var sampleEvery = Math.Max(1, sourceCount / Math.Max(1, options.SampleQueries));
        var copy = await CopyAsync(spec, checkpoint?.Copied ?? 0, checkpoint?.LastId, sampleEvery, cancellationToken);
        if (copy.OrderChanged)
        {
            log.WriteLine("the export order no longer matches the checkpoint; copying everything again (writes are idempotent)");
            copy = await CopyAsync(spec, 0, null, sampleEvery, cancellationToken);
        }

        var targetCount = await target.CountAsync(options.Collection, null, cancellationToken);
        var comparisons = new List<SampleComparison>();
        if (copy.Completed)
        {
            foreach (var (id, vector) in copy.Samples)
            {
                var expected = await source.SearchAsync(options.Collection, new VectorQuery(vector, options.TopK), cancellationToken);
                var actual = await target.SearchAsync(options.Collection, new VectorQuery(vector, options.TopK), cancellationToken);
                comparisons.Add(Compare(id, expected, actual));
            }

            if (targetCount == sourceCount)
            {
                File.Delete(options.CheckpointPath);
            }
        }

        return new MigrationReport(
            options.Collection, options.FromLabel, options.ToLabel, spec.Fingerprint.ToString(), spec.Dimensions,
            sourceCount, targetCount, copy.Copied, copy.Skipped, resumed, copy.Completed, targetCount == sourceCount,
            comparisons.Count, comparisons.Count(c => c.Identical), comparisons.Count(c => c.SameUpToTies), started.Elapsed.TotalSeconds,
            [.. comparisons.Where(c => !c.Identical)]);
    }

    private sealed record CopyResult(long Copied, long Skipped, bool Completed, bool OrderChanged, List<(string Id, float[] Vector)> Samples);

    private async Task<CopyResult> CopyAsync(VectorCollectionSpec spec, long skip, string? lastSkippedId, long sampleEvery, CancellationToken cancellationToken)
    {
        var samples = new List<(string, float[])>();
        var batch = new List<VectorPoint>(options.BatchSize);
        long index = 0, copied = 0;
        await foreach (var point in source.ExportAsync(options.Collection, cancellationToken))
        {
            if (index % sampleEvery == 0 && samples.Count < options.SampleQueries)
            {
                samples.Add((point.Id, point.Vector));
            }

            if (index < skip)
            {
                if (index == skip - 1 && !string.Equals(point.Id, lastSkippedId, StringComparison.Ordinal))
                {
                    return new CopyResult(0, 0, false, true, samples);
                }

                index++;
                continue;
            }

            index++;
            batch.Add(point);
            if (batch.Count == options.BatchSize)
            {
                copied += await WriteAsync(spec, batch, cancellationToken);
                SaveCheckpoint(spec, skip + copied, batch[^1].Id);
                batch = new List<VectorPoint>(options.BatchSize);
                if (options.MaxPoints is { } max && copied >= max)
                {
                    log.WriteLine($"stopped after {copied:N0} points (--max-points); run the same command again to resume");
                    return new CopyResult(copied, skip, false, false, samples);
                }
            }
        }

        if (batch.Count > 0)
        {
            copied += await WriteAsync(spec, batch, cancellationToken);
            SaveCheckpoint(spec, skip + copied, batch[^1].Id);
        }

        if (index < skip)
        {
            // Fewer points than the checkpoint says were copied: the source changed.
            return new CopyResult(0, 0, false, true, samples);
        }

        return new CopyResult(copied, skip, true, false, samples);
    }

    private async Task<long> WriteAsync(VectorCollectionSpec spec, List<VectorPoint> batch, CancellationToken cancellationToken)
    {
        var written = await target.ImportAsync(spec.Name, ToAsync(batch), cancellationToken);
        log.WriteLine($"  copied {batch.Count:N0} points (up to {batch[^1].Id})");
        return written;
    }

    /// <summary>Same ids in the same order; or, failing that, the same ranking once ids tied at equal scores are treated as interchangeable.</summary>
    internal static SampleComparison Compare(string queryId, IReadOnlyList<VectorSearchHit> expected, IReadOnlyList<VectorSearchHit> actual)
    {
        var identical = expected.Select(h => h.Id).SequenceEqual(actual.Select(h => h.Id), StringComparer.Ordinal);
        var sameUpToTies = identical || SameUpToTies(expected, actual);
        return new SampleComparison(queryId, [.. expected.Select(h => h.Id)], [.. actual.Select(h => h.Id)], identical, sameUpToTies);
    }

    private static bool SameUpToTies(IReadOnlyList<VectorSearchHit> expected, IReadOnlyList<VectorSearchHit> actual)
    {
        const float Tolerance = 1e-4f;
        if (expected.Count != actual.Count)
        {
            return false;
        }

        for (var i = 0; i < expected.Count; i++)
        {
            if (Math.Abs(expected[i].Score - actual[i].Score) > Tolerance)
            {
                return false;
            }
        }

        // Ids may differ only inside groups of equal scores; the group at the cut-off may hold different members.
        var cutoff = expected[^1].Score;
        var above = (IReadOnlyList<VectorSearchHit> hits) => hits.Where(h => h.Score > cutoff + Tolerance).Select(h => h.Id).ToHashSet(StringComparer.Ordinal);
        return above(expected).SetEquals(above(actual));
    }

    private MigrationCheckpoint? LoadCheckpoint(VectorCollectionSpec spec)
    {
        if (!File.Exists(options.CheckpointPath))
        {
            return null;
        }

        var checkpoint = JsonSerializer.Deserialize<MigrationCheckpoint>(File.ReadAllText(options.CheckpointPath), Json)
            ?? throw new CliException($"checkpoint {options.CheckpointPath} is empty.");
        if (checkpoint.Collection != options.Collection || checkpoint.From != options.FromLabel || checkpoint.To != options.ToLabel
            || checkpoint.Fingerprint != spec.Fingerprint.ToString())
        {
            throw new CliException(
                $"checkpoint {options.CheckpointPath} belongs to another migration ({checkpoint.Collection}: {checkpoint.From} → {checkpoint.To}); " +
                "delete it or pass another --checkpoint.");
        }

        return checkpoint;
    }

    /// <summary>Written beside and renamed over the old one, so a crash never leaves half a checkpoint.</summary>
    private void SaveCheckpoint(VectorCollectionSpec spec, long copied, string? lastId)
    {
        var checkpoint = new MigrationCheckpoint(options.Collection, options.FromLabel, options.ToLabel, spec.Fingerprint.ToString(), copied, lastId, DateTimeOffset.UtcNow);
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.CheckpointPath))!;
        Directory.CreateDirectory(directory);
        var temporary = options.CheckpointPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(checkpoint, Json));
        File.Move(temporary, options.CheckpointPath, overwrite: true);
    }

    internal static async IAsyncEnumerable<VectorPoint> ToAsync(IEnumerable<VectorPoint> points)
    {
        foreach (var point in points)
        {
            yield return point;
        }

        await Task.CompletedTask;
    }
}
