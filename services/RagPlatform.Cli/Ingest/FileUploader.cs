using System.Globalization;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

/// <summary>
/// Posts files to <c>…/files</c> in batches (at most <see cref="FilesPerRequest"/> files and <see cref="BytesPerRequest"/>
/// bytes, a larger file alone). The server parses them; its per-file outcomes come back with the job. A file over the
/// size limit is not sent at all, and a batch the server refuses whole (413) fails its files with the reason.
/// </summary>
public sealed class FileUploader(RagPlatformClient client, string collection, long maxFileBytes = FileUploader.DefaultMaxFileBytes)
{
    /// <summary>The server's default per-file limit (RagPlatform:Ingestion:MaxFileBytes).</summary>
    public const long DefaultMaxFileBytes = 64L * 1024 * 1024;

    public const int FilesPerRequest = 32;

    public const long BytesPerRequest = 32L * 1024 * 1024;

    public async Task UploadAsync(IReadOnlyList<SourceItem> files, UploadResult result, Action<UploadProgress>? progress, CancellationToken cancellationToken)
    {
        var batch = new List<UploadFile>();
        long bytes = 0;
        foreach (var file in files)
        {
            var length = new FileInfo(file.Path!).Length;
            if (length > maxFileBytes)
            {
                result.Failures.Add(new JobItemError(file.Origin, string.Create(CultureInfo.InvariantCulture,
                    $"the file is {length / 1048576.0:0.0} MB; the server takes files up to {maxFileBytes / 1048576.0:0} MB (RagPlatform:Ingestion:MaxFileBytes, --max-file-mb)")));
                continue;
            }

            if (batch.Count > 0 && (batch.Count == FilesPerRequest || bytes + length > BytesPerRequest))
            {
                await PostAsync(batch, result, cancellationToken);
                progress?.Invoke(new UploadProgress(result.Posted, result.Jobs.Count));
                batch = [];
                bytes = 0;
            }

            batch.Add(new UploadFile(file.Path!, file.Origin));
            bytes += length;
        }

        if (batch.Count > 0)
        {
            await PostAsync(batch, result, cancellationToken);
            progress?.Invoke(new UploadProgress(result.Posted, result.Jobs.Count));
        }
    }

    private async Task PostAsync(List<UploadFile> batch, UploadResult result, CancellationToken cancellationToken)
    {
        try
        {
            var accepted = await client.PostFilesAsync(collection, batch, cancellationToken);
            result.Jobs.Add(new JobAccepted(accepted.JobId, accepted.Collection, accepted.Documents));
            result.Files.AddRange(accepted.Files);
        }
        catch (RagApiException ex) when (ex.Status is 413 or 400)
        {
            // Refused as a whole (too large for the server's request limit, a name it will not take): every file of it failed.
            result.Failures.AddRange(batch.Select(f => new JobItemError(f.Name, ex.Message)));
        }
    }
}
