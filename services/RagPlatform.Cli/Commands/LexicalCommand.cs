using System.CommandLine;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Cli.Vectors;
using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag lexical rebuild</c>: makes a collection's lexical (BM25) index again from the points its vector backend
/// holds — the same ids and payloads the embedding worker writes to both. For an index that was lost or damaged,
/// and for a move to the distributed mode, whose lexical index lives in Postgres: point the command at the new
/// <c>ConnectionStrings:ragdb</c> and the collection's vectors fill it without embedding anything again.
/// </summary>
public static class LexicalCommand
{
    private const int BatchSize = 512;

    public static Command Create(IReadOnlyList<string> settings)
    {
        var collection = VectorCommandOptions.Collection();
        var dataDirectory = VectorCommandOptions.DataDirectory();
        var json = VectorCommandOptions.Json();
        var rebuild = new Command("rebuild", "Drop a collection's lexical index and fill it again from its vector backend's points " +
            "(no embedding). Runs on the data directory directly: stop the services that use it first.")
        {
            collection, dataDirectory, json,
        };
        rebuild.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var name = VectorCommandOptions.ValidCollection(result.GetValue(collection));
            await using var platform = await OfflinePlatform.OpenAsync(result.GetValue(dataDirectory)!, settings, cancellationToken);
            var record = await VectorCommandOptions.GetRecordAsync(platform, name, cancellationToken);
            var backend = await platform.Plugins.GetVectorBackendAsync(record.Settings.VectorBackend, cancellationToken);
            // The lexical index is the logical collection's (text does not change with the model); the vectors are the active version's.
            if (await backend.GetCollectionAsync(record.VectorName, cancellationToken) is null)
            {
                throw new CliException($"collection '{name}' has no vectors in backend '{record.Settings.VectorBackend}'; nothing to rebuild from.");
            }

            var chunks = await RebuildAsync(platform.Lexical, name, backend, record.VectorName, cancellationToken);
            if (result.GetValue(json))
            {
                CliJson.WriteLine(new { collection = name, chunks, backend = record.Settings.VectorBackend });
            }
            else
            {
                Console.WriteLine($"{name}: lexical index rebuilt from {chunks:N0} points of '{record.Settings.VectorBackend}'");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("lexical", "Maintain collections' lexical (BM25) indexes") { rebuild };
    }

    /// <summary>Drops the collection's lexical index, then writes every point exported from <paramref name="vectorName"/> into it in batches.</summary>
    public static async Task<long> RebuildAsync(
        ILexicalIndex lexical, string collection, IVectorBackend backend, string vectorName, CancellationToken cancellationToken)
    {
        await lexical.DeleteCollectionAsync(collection, cancellationToken);
        long chunks = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(backend.ExportAsync(vectorName, cancellationToken), BatchSize, cancellationToken))
        {
            await lexical.UpsertAsync(collection, [.. batch.Select(p => new LexicalChunk(p.Id, p.Payload))], cancellationToken);
            chunks += batch.Count;
        }

        return chunks;
    }
}
