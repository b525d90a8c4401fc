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
/// <para>
/// It is also the fix a 409 <see cref="LexicalAnalyzerMismatchException"/> names: the index is cut again with this
/// process's analyzer (RagPlatform:Lexical). A backend that keeps the terms itself (<see cref="IHybridSearchBackend"/>:
/// Qdrant's sparse vectors) has no separate index; it re-cuts its own points' terms. The error names the collection
/// the backend holds, which is <c>name__vN</c> after a re-index: that name is accepted too.
/// </para>
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
            var given = VectorCommandOptions.ValidCollection(result.GetValue(collection));
            await using var platform = await OfflinePlatform.OpenAsync(result.GetValue(dataDirectory)!, settings, cancellationToken);
            var record = await platform.Store.GetCollectionAsync(given, cancellationToken)
                ?? (await platform.Store.ListCollectionsAsync(cancellationToken)).FirstOrDefault(r => r.VectorName == given)
                ?? throw new CliException($"collection '{given}' does not exist.");
            var name = record.Name;
            var backend = await platform.Plugins.GetVectorBackendAsync(record.Settings.VectorBackend, cancellationToken);
            // The lexical index is the logical collection's (text does not change with the model); the vectors are the active version's.
            if (await backend.GetCollectionAsync(record.VectorName, cancellationToken) is null)
            {
                throw new CliException($"collection '{name}' has no vectors in backend '{record.Settings.VectorBackend}'; nothing to rebuild from.");
            }

            var chunks = backend is IHybridSearchBackend hybrid
                ? await hybrid.RebuildLexicalAsync(record.VectorName, cancellationToken)
                : await RebuildAsync(platform.Lexical, name, backend, record.VectorName, cancellationToken);
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
