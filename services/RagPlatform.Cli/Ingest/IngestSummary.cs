using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

/// <summary>The outcome of one ingestion run, over all its jobs and what never reached a job.</summary>
public sealed record IngestSummary(
    string Collection,
    int Documents,
    int Succeeded,
    int Unchanged,
    int Skipped,
    int Failed,
    long ChunksEmbedded,
    long ChunksReused,
    long ChunksUnchanged,
    long ChunksDeleted,
    double Seconds,
    IReadOnlyList<Guid> Jobs,
    IReadOnlyList<JobItemError> Errors,
    int DocumentsDeleted = 0)
{
    /// <summary>
    /// Files the server refused when they were posted are items of their jobs, so the jobs' statuses count them; without
    /// statuses (not waiting), the posting answers' per-file results do.
    /// </summary>
    public static IngestSummary From(string collection, UploadResult upload, IReadOnlyList<JobStatus> statuses, double seconds)
    {
        var refusedFiles = statuses.Count > 0
            ? []
            : upload.Files.Where(f => f.Status == FileStatuses.Failed).Select(f => new JobItemError(f.DocumentId, $"{f.Name}: {f.Error}")).ToList();
        return Summarize(collection, upload, statuses, seconds, refusedFiles);
    }

    private static IngestSummary Summarize(string collection, UploadResult upload, IReadOnlyList<JobStatus> statuses, double seconds, List<JobItemError> refusedFiles) => new(
        collection,
        upload.Posted + upload.Failures.Count + upload.Skipped,
        statuses.Sum(s => s.Succeeded),
        statuses.Sum(s => s.Unchanged),
        statuses.Sum(s => s.Skipped) + upload.Skipped,
        statuses.Sum(s => s.Failed) + upload.Failures.Count + refusedFiles.Count,
        statuses.Sum(s => s.ChunksEmbedded),
        statuses.Sum(s => s.ChunksReused),
        statuses.Sum(s => s.ChunksUnchanged),
        statuses.Sum(s => s.ChunksDeleted),
        Math.Round(seconds, 3),
        [.. upload.Jobs.Select(j => j.JobId)],
        [.. upload.Failures, .. refusedFiles, .. statuses.SelectMany(s => s.Errors)]);
}
