using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Vectors;

/// <summary>One LlamaIndex node of an export: a chunk of text, the document it came from, its metadata and maybe its vector.</summary>
public sealed record LlamaCloudNode(string Id, string DocumentId, string Text, IReadOnlyDictionary<string, JsonElement> Metadata, float[]? Embedding);

/// <summary>
/// A LlamaCloud / LlamaIndex JSON export, as seed 003 starts from. Accepted shapes: an object with a <c>nodes</c>
/// array (and optionally <c>embedding_model</c> or <c>fingerprint</c> naming the vectors' model), or a bare array of
/// nodes. A node is LlamaIndex's TextNode JSON: <c>id_</c> (or <c>id</c> / <c>node_id</c>), <c>text</c>,
/// <c>metadata</c> (object), <c>embedding</c> (array of numbers, or null), and its document from <c>ref_doc_id</c>,
/// else <c>relationships["1"].node_id</c> (the SOURCE relation), else <c>metadata.document_id</c> / <c>doc_id</c> /
/// <c>file_name</c>, else the node's own id.
/// </summary>
public sealed record LlamaCloudExport(string? DeclaredModel, IReadOnlyList<LlamaCloudNode> Nodes)
{
    public static LlamaCloudExport Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{path} does not exist.");
        }

        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            string? model = null;
            JsonElement nodes;
            if (root.ValueKind == JsonValueKind.Array)
            {
                nodes = root;
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("nodes", out nodes) && nodes.ValueKind == JsonValueKind.Array)
            {
                model = String(root, "fingerprint") ?? String(root, "embedding_model");
            }
            else
            {
                throw new CliException($"{path}: expected an array of nodes or an object with a \"nodes\" array.");
            }

            var list = new List<LlamaCloudNode>();
            var index = 0;
            foreach (var node in nodes.EnumerateArray())
            {
                list.Add(ReadNode(path, node, index++));
            }

            return new LlamaCloudExport(model, list);
        }
    }

    private static LlamaCloudNode ReadNode(string path, JsonElement node, int index)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            throw new CliException($"{path}: nodes[{index}] is not an object.");
        }

        var id = String(node, "id_") ?? String(node, "id") ?? String(node, "node_id")
            ?? throw new CliException($"{path}: nodes[{index}] has no id_.");
        var text = String(node, "text") ?? throw new CliException($"{path}: nodes[{index}] ({id}) has no text.");
        var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (node.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in meta.EnumerateObject())
            {
                metadata[property.Name] = property.Value.Clone();
            }
        }

        var documentId = String(node, "ref_doc_id")
            ?? (node.TryGetProperty("relationships", out var relations) && relations.ValueKind == JsonValueKind.Object
                && relations.TryGetProperty("1", out var source) && source.ValueKind == JsonValueKind.Object ? String(source, "node_id") : null)
            ?? MetadataString(metadata, "document_id") ?? MetadataString(metadata, "doc_id") ?? MetadataString(metadata, "file_name")
            ?? id;

        float[]? embedding = null;
        if (node.TryGetProperty("embedding", out var vector) && vector.ValueKind == JsonValueKind.Array)
        {
            embedding = new float[vector.GetArrayLength()];
            var i = 0;
            foreach (var value in vector.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number)
                {
                    throw new CliException($"{path}: nodes[{index}] ({id}) has a non-numeric embedding value.");
                }

                embedding[i++] = value.GetSingle();
            }
        }

        return new LlamaCloudNode(id, documentId, text, metadata, embedding is { Length: > 0 } ? embedding : null);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    private static string? MetadataString(IReadOnlyDictionary<string, JsonElement> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    /// <summary>
    /// Whether the export's own vectors can be kept: every node has one, of the collection's dimensions, and the
    /// declared model (a fingerprint) is the same vector space as the collection's. Otherwise all are re-embedded —
    /// a collection never mixes spaces, and a vector of an undeclared model cannot be trusted to match.
    /// </summary>
    public string? WhyNotKeepVectors(ModelFingerprint collectionFingerprint)
    {
        if (Nodes.Any(n => n.Embedding is null))
        {
            return "some nodes carry no embedding";
        }

        if (Nodes.Any(n => n.Embedding!.Length != collectionFingerprint.Dimensions))
        {
            return $"the embeddings do not have the collection's {collectionFingerprint.Dimensions} dimensions";
        }

        if (DeclaredModel is null)
        {
            return "the export does not declare its model (give --fingerprint if it is the collection's)";
        }

        ModelFingerprint declared;
        try
        {
            declared = ModelFingerprint.Parse(DeclaredModel);
        }
        catch (FormatException)
        {
            return $"the declared model '{DeclaredModel}' is not a fingerprint (provider/model@revision;dim=N;pool=P;norm=N)";
        }

        return declared.IsSameVectorSpace(collectionFingerprint)
            ? null
            : $"the export's model {declared} is not the collection's {collectionFingerprint}";
    }
}
