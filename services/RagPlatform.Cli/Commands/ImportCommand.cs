using System.CommandLine;
using System.Text.Json;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Cli.Vectors;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag import llamacloud FILE --collection C</c>: a LlamaCloud / LlamaIndex JSON export (seed 003's starting point)
/// becomes a new collection. Each node stays one chunk (its text is not re-chunked). The export's vectors are kept
/// only when it declares a model fingerprint of the collection's vector space (<c>--fingerprint</c>, or a
/// <c>fingerprint</c> field in the file) and every node has one of the right size; otherwise every node is embedded
/// again by the collection's provider, so the collection never mixes vector spaces.
/// </summary>
public static class ImportCommand
{
    /// <summary>The chunking label of imported content hashes: imported chunks are whole nodes, not the platform's chunks.</summary>
    public const string ChunkingLabel = "llamacloud-import";

    public static Command Create(IReadOnlyList<string> settings)
    {
        var file = new Argument<string>("FILE") { Description = "The export (JSON)" };
        var collection = VectorCommandOptions.Collection();
        var fingerprint = new Option<string?>("--fingerprint")
        {
            Description = "Model fingerprint of the export's embeddings (provider/model@revision;dim=N;pool=P;norm=N); vectors are kept when it is the collection's space",
            HelpName = "FINGERPRINT",
        };
        var vectorBackend = new Option<string?>("--vector-backend") { Description = "Vector backend of the new collection (default: the platform's)", HelpName = "BACKEND" };
        var dataDirectory = VectorCommandOptions.DataDirectory();
        var json = VectorCommandOptions.Json();
        var llamacloud = new Command("llamacloud", "Import a LlamaCloud/LlamaIndex JSON export (nodes with id_, text, metadata, embedding) into a new collection. " +
            "Runs on the data directory directly: stop the services that use it first.")
        {
            file, collection, fingerprint, vectorBackend, dataDirectory, json,
        };
        llamacloud.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var name = VectorCommandOptions.ValidCollection(result.GetValue(collection));
            var export = LlamaCloudExport.Read(Path.GetFullPath(result.GetValue(file)!));
            if (result.GetValue(fingerprint) is { } declared)
            {
                export = export with { DeclaredModel = declared };
            }

            if (export.Nodes.Count == 0)
            {
                throw new CliException("the export holds no nodes.");
            }

            await using var platform = await OfflinePlatform.OpenAsync(result.GetValue(dataDirectory)!, settings, cancellationToken);
            if (await platform.Store.GetCollectionAsync(name, cancellationToken) is not null)
            {
                throw new CliException($"collection '{name}' already exists; import into a new collection.");
            }

            var (record, _) = await platform.Collections.PutAsync(name, new CollectionSettingsInput(null, result.GetValue(vectorBackend), null), cancellationToken);
            try
            {
                var resolved = await platform.Collections.ResolveAsync(record, cancellationToken);
                var why = export.WhyNotKeepVectors(resolved.Provider.Fingerprint);
                var vectors = why is null
                    ? [.. export.Nodes.Select(n => n.Embedding!)]
                    : await EmbedAsync(resolved.Provider, export.Nodes, cancellationToken);
                var loader = new CollectionLoader(platform.Store, platform.Lexical, resolved.Backend, name);
                foreach (var batch in ToPoints(name, export.Nodes, vectors).Chunk(500))
                {
                    await loader.AddPointsAsync(batch, cancellationToken);
                }

                var documents = await loader.CommitAsync(cancellationToken);
                if (result.GetValue(json))
                {
                    CliJson.WriteLine(new
                    {
                        collection = name, points = loader.Points, documents, vectorsKept = why is null, reembedReason = why,
                        fingerprint = resolved.Provider.Fingerprint.ToString(), backend = record.Settings.VectorBackend,
                    });
                }
                else
                {
                    Console.WriteLine($"{name}: imported {loader.Points:N0} nodes of {documents:N0} documents into '{record.Settings.VectorBackend}'; " +
                        (why is null ? "kept the export's vectors" : $"embedded again with {resolved.Provider.Fingerprint} ({why})"));
                }

                return ExitCodes.Ok;
            }
            catch
            {
                // Nothing half-imported stays behind: the collection was created by this command.
                await platform.Collections.DeleteAsync(name, CancellationToken.None);
                throw;
            }
        }, cancellationToken));

        return new Command("import", "Import collections exported from elsewhere") { llamacloud };
    }

    private static async Task<float[][]> EmbedAsync(IEmbeddingProvider provider, IReadOnlyList<LlamaCloudNode> nodes, CancellationToken cancellationToken)
    {
        var vectors = new float[nodes.Count][];
        var batchSize = Math.Max(1, provider.MaxBatchSize);
        for (var start = 0; start < nodes.Count; start += batchSize)
        {
            var batch = nodes.Skip(start).Take(batchSize).ToList();
            var results = await provider.EmbedAsync([.. batch.Select(n => n.Text)], EmbeddingPurpose.Document, cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                vectors[start + i] = results[i].Vector
                    ?? throw new CliException($"node {batch[i].Id} could not be embedded: {results[i].Error}");
            }
        }

        return vectors;
    }

    /// <summary>
    /// Points as the platform's ingestion would make them: deterministic ids from (collection, document, content hash,
    /// occurrence), ordinals in export order within each document. Title from metadata <c>title</c> or <c>file_name</c>;
    /// tags from a <c>tags</c> array of strings; other scalar metadata kept (plus <c>source_node_id</c>); nested values dropped.
    /// </summary>
    internal static IEnumerable<VectorPoint> ToPoints(string collection, IReadOnlyList<LlamaCloudNode> nodes, IReadOnlyList<float[]> vectors)
    {
        var ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        var occurrences = new Dictionary<(string, string), int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var ordinal = ordinals.GetValueOrDefault(node.DocumentId);
            ordinals[node.DocumentId] = ordinal + 1;
            var contentHash = ContentHashing.ChunkHash(ChunkingLabel, node.Text);
            var occurrence = occurrences.GetValueOrDefault((node.DocumentId, contentHash));
            occurrences[(node.DocumentId, contentHash)] = occurrence + 1;

            var title = Scalar(node.Metadata, "title") ?? Scalar(node.Metadata, "file_name");
            var tags = node.Metadata.TryGetValue("tags", out var t) && t.ValueKind == JsonValueKind.Array
                ? t.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Distinct(StringComparer.Ordinal).ToList()
                : [];
            var metadata = node.Metadata
                .Where(m => m.Key != "tags" && m.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                .ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
            metadata["source_node_id"] = JsonSerializer.SerializeToElement(node.Id);

            var payload = new PointPayload(node.DocumentId, title, node.Text, tags, metadata, contentHash, ordinal);
            yield return new VectorPoint(ContentHashing.PointId(collection, node.DocumentId, contentHash, occurrence), vectors[i], payload);
        }
    }

    private static string? Scalar(IReadOnlyDictionary<string, JsonElement> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
