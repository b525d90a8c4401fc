using System.CommandLine;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Cli.Vectors;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Errors;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag backup</c> and <c>rag restore</c>: one portable snapshot file per collection (see <see cref="CollectionSnapshot"/>).</summary>
public static class BackupCommand
{
    public static Command CreateBackup(IReadOnlyList<string> settings)
    {
        var collection = VectorCommandOptions.Collection();
        var output = new Option<string>("--out") { Description = "Snapshot file to write (gzip; replaced atomically)", HelpName = "FILE", Required = true };
        var dataDirectory = VectorCommandOptions.DataDirectory();
        var json = VectorCommandOptions.Json();
        var command = new Command("backup", "Write a collection (settings, vectors, payloads, chunk rows) to one checksummed snapshot file. " +
            "Runs on the data directory directly: stop the services that use it first.")
        {
            collection, output, dataDirectory, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var name = VectorCommandOptions.ValidCollection(result.GetValue(collection));
            var path = Path.GetFullPath(result.GetValue(output)!);
            await using var platform = await OfflinePlatform.OpenAsync(result.GetValue(dataDirectory)!, settings, cancellationToken);
            var record = await VectorCommandOptions.GetRecordAsync(platform, name, cancellationToken);
            var backend = await platform.Plugins.GetVectorBackendAsync(record.Settings.VectorBackend, cancellationToken);
            // The active version's vectors (a re-indexed collection keeps them in name__vN); restore brings them back as version 1.
            var spec = await backend.GetCollectionAsync(record.VectorName, cancellationToken)
                ?? throw new CliException($"collection '{name}' has no vectors in backend '{record.Settings.VectorBackend}'.");
            var points = await backend.CountAsync(record.VectorName, null, cancellationToken);
            var header = new SnapshotHeader(CollectionSnapshot.FormatName, CollectionSnapshot.FormatVersion, name, DateTimeOffset.UtcNow,
                record.Settings.VectorBackend, spec.Dimensions, spec.Metric, spec.Fingerprint.ToString(), record.Settings, points);
            var summary = await CollectionSnapshot.WriteAsync(path, header, backend.ExportAsync(record.VectorName, cancellationToken),
                (documents, ct) => platform.Store.GetChunksAsync(name, documents, ct), cancellationToken);
            if (summary.Points != points)
            {
                File.Delete(path);
                throw new CliException($"collection '{name}' changed during the backup ({points:N0} points counted, {summary.Points:N0} exported); nothing was kept.");
            }

            if (result.GetValue(json))
            {
                CliJson.WriteLine(new { collection = name, file = path, summary.Points, summary.Chunks, summary.Bytes, summary.Sha256 });
            }
            else
            {
                Console.WriteLine($"{name}: {summary.Points:N0} points, {summary.Chunks:N0} chunk rows → {path} ({summary.Bytes:N0} bytes, sha256 {summary.Sha256})");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command CreateRestore(IReadOnlyList<string> settings)
    {
        var input = new Option<string>("--in") { Description = "Snapshot file written by rag backup", HelpName = "FILE", Required = true };
        var collection = VectorCommandOptions.Collection(required: false);
        collection.Description = "Restore under this name (default: the name in the snapshot)";
        var backendOption = new Option<string?>("--vector-backend") { Description = "Restore into this vector backend (default: the one in the snapshot's settings)", HelpName = "BACKEND" };
        var dataDirectory = VectorCommandOptions.DataDirectory();
        var json = VectorCommandOptions.Json();
        var command = new Command("restore", "Recreate a collection from a snapshot file: vectors, payloads, lexical index and metadata. " +
            "The collection must not exist. Runs on the data directory directly: stop the services that use it first.")
        {
            input, collection, backendOption, dataDirectory, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var path = Path.GetFullPath(result.GetValue(input)!);
            var (header, chunks) = await CollectionSnapshot.VerifyAsync(path, cancellationToken);
            var name = VectorCommandOptions.ValidCollection(result.GetValue(collection) ?? header.Collection);
            var settingsToUse = result.GetValue(backendOption) is { } other ? header.Settings with { VectorBackend = other } : header.Settings;

            await using var platform = await OfflinePlatform.OpenAsync(result.GetValue(dataDirectory)!, settings, cancellationToken);
            if (await platform.Store.GetCollectionAsync(name, cancellationToken) is not null)
            {
                throw new CliException($"collection '{name}' already exists; delete it first or restore under another --collection.");
            }

            var backend = await platform.Plugins.GetVectorBackendAsync(settingsToUse.VectorBackend, cancellationToken);
            var loader = new CollectionLoader(platform.Store, platform.Lexical, backend, name);
            var spec = new RagPlatform.Sdk.VectorCollectionSpec(name, header.Dimensions, header.Metric, RagPlatform.Sdk.ModelFingerprint.Parse(header.Fingerprint));
            await loader.CreateAsync(settingsToUse, spec, cancellationToken);
            foreach (var chunk in chunks)
            {
                loader.AddChunkRow(chunk);
            }

            await foreach (var batch in RagPlatform.Sdk.VectorPointBatches.ReadAsync(
                CollectionSnapshot.ReadPointsAsync(path, header.Dimensions, cancellationToken), 500, cancellationToken))
            {
                await loader.AddPointsAsync(batch, cancellationToken);
            }

            var documents = await loader.CommitAsync(cancellationToken);
            if (result.GetValue(json))
            {
                CliJson.WriteLine(new { collection = name, file = path, points = loader.Points, documents, backend = settingsToUse.VectorBackend });
            }
            else
            {
                Console.WriteLine($"{name}: restored {loader.Points:N0} points of {documents:N0} documents into '{settingsToUse.VectorBackend}' from {path}");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
