using System.Diagnostics;
using RagPlatform.Cli.Client;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Ingest;

/// <summary>Upload then wait, with a progress display when someone is watching. Shared by ingest and eval.</summary>
public sealed class IngestRun(RagClient client, string collection, int batchSize, bool showProgress)
{
    public string Collection => collection;

    public async Task<IngestSummary> RunAsync(IEnumerable<SourceItem> items, bool wait, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var uploader = new DocumentUploader(client, collection, batchSize);
        UploadResult upload;
        IReadOnlyList<JobStatus> statuses = [];
        if (!showProgress)
        {
            upload = await uploader.UploadAsync(items, null, cancellationToken);
            if (wait)
            {
                statuses = await JobWaiter.WaitAsync(client, Ids(upload), JobWaiter.DefaultInterval, null, cancellationToken);
            }

            return IngestSummary.From(collection, upload, statuses, clock.Elapsed.TotalSeconds);
        }

        upload = null!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                // How many documents there are is known only once all are read, so posting shows a count.
                var posting = context.AddTask("posting").IsIndeterminate();
                upload = await uploader.UploadAsync(items, p => posting.Description = $"posted {Terminal.Count(p.Documents)} documents", cancellationToken);
                posting.Description = $"posted {Terminal.Count(upload.Posted)} documents";
                posting.IsIndeterminate(false).Value = posting.MaxValue;
                posting.StopTask();
                if (!wait || upload.Jobs.Count == 0)
                {
                    return;
                }

                var embedding = context.AddTask("embedding", maxValue: Math.Max(1, upload.Posted));
                statuses = await JobWaiter.WaitAsync(client, Ids(upload), JobWaiter.DefaultInterval, current =>
                {
                    embedding.Value = current.Sum(s => s.Processed);
                    embedding.Description = $"embedded {Terminal.Count(current.Sum(s => s.ChunksEmbedded))} chunks";
                }, cancellationToken);
                embedding.StopTask();
            });
        return IngestSummary.From(collection, upload, statuses, clock.Elapsed.TotalSeconds);
    }

    private static List<Guid> Ids(UploadResult upload) => [.. upload.Jobs.Select(j => j.JobId)];
}
