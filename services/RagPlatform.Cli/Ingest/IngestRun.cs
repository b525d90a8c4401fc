using System.Diagnostics;
using RagPlatform.Client;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Ingest;

/// <summary>
/// Upload then wait, with a progress display when someone is watching. Shared by ingest and eval. Documents (JSON Lines)
/// stream to <c>…/documents</c> in batches; files go to <c>…/files</c> for the server to parse.
/// </summary>
public sealed class IngestRun(RagPlatformClient client, string collection, int batchSize, bool showProgress, long maxFileBytes = FileUploader.DefaultMaxFileBytes)
{
    public string Collection => collection;

    /// <summary>The ids of everything read from the inputs (documents and files, posted or not): what a sync keeps.</summary>
    public HashSet<string> SeenIds { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// After a run over one folder (<c>--sync</c>): deletes the collection's documents that the run did not read, so
    /// the collection mirrors the folder. Returns the deleted ids.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteVanishedAsync(CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        foreach (var id in await client.ListAllDocumentIdsAsync(collection, cancellationToken))
        {
            if (SeenIds.Contains(id))
            {
                continue;
            }

            if (!RagPlatformClient.IsAddressable(id))
            {
                throw new CliException($"document '{id}' cannot be addressed in a URL path (an empty, '.' or '..' segment); delete it over the API with its exact id.");
            }

            if (await client.DeleteDocumentAsync(collection, id, cancellationToken))
            {
                deleted.Add(id);
            }
        }

        return deleted;
    }

    private async Task<UploadResult> UploadAsync(IEnumerable<SourceItem> items, Action<UploadProgress>? progress, CancellationToken cancellationToken)
    {
        var files = new List<SourceItem>();
        IEnumerable<SourceItem> Documents()
        {
            foreach (var item in items)
            {
                SeenIds.Add(item.Document?.Id ?? item.Origin);
                if (item.Kind == SourceItemKind.File)
                {
                    files.Add(item);
                }
                else
                {
                    yield return item;
                }
            }
        }

        var upload = await new DocumentUploader(client, collection, batchSize).UploadAsync(Documents(), progress, cancellationToken);
        await new FileUploader(client, collection, maxFileBytes).UploadAsync(files, upload, progress, cancellationToken);
        return upload;
    }

    public async Task<IngestSummary> RunAsync(IEnumerable<SourceItem> items, bool wait, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        UploadResult upload;
        IReadOnlyList<JobStatus> statuses = [];
        if (!showProgress)
        {
            upload = await UploadAsync(items, null, cancellationToken);
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
                upload = await UploadAsync(items, p => posting.Description = $"posted {Terminal.Count(p.Documents)} documents", cancellationToken);
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
