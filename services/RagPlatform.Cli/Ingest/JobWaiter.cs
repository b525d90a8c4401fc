using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

/// <summary>Polls ingestion jobs until every one is final (completed, completed_with_errors or failed).</summary>
public static class JobWaiter
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    public static async Task<IReadOnlyList<JobStatus>> WaitAsync(
        RagPlatformClient client, IReadOnlyList<Guid> jobs, TimeSpan interval, Action<IReadOnlyList<JobStatus>>? progress, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<Guid, JobStatus>();
        while (true)
        {
            // A final job never changes again, so only the unfinished ones are asked for.
            foreach (var job in jobs)
            {
                if (!latest.TryGetValue(job, out var known) || !JobStates.IsFinal(known.State))
                {
                    latest[job] = await client.GetJobAsync(job, cancellationToken);
                }
            }

            var statuses = jobs.Select(j => latest[j]).ToList();
            progress?.Invoke(statuses);
            if (statuses.TrueForAll(s => JobStates.IsFinal(s.State)))
            {
                return statuses;
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    /// <summary>The current state of every job, once.</summary>
    public static async Task<IReadOnlyList<JobStatus>> SnapshotAsync(RagPlatformClient client, IReadOnlyList<Guid> jobs, CancellationToken cancellationToken)
    {
        var statuses = new List<JobStatus>(jobs.Count);
        foreach (var job in jobs)
        {
            statuses.Add(await client.GetJobAsync(job, cancellationToken));
        }

        return statuses;
    }
}
