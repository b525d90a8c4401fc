using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss;

/// <summary>collection.json: the spec and the index factory a collection was created with.</summary>
internal sealed record CollectionManifest(
    string Name,
    int Dimensions,
    DistanceMetric Metric,
    ModelFingerprint Fingerprint,
    string IndexFactory)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public VectorCollectionSpec Spec => new(Name, Dimensions, Metric, Fingerprint);

    public static CollectionManifest Read(string path) =>
        JsonSerializer.Deserialize<CollectionManifest>(File.ReadAllBytes(path), Json)
        ?? throw new InvalidDataException($"{path} is empty.");

    public void Write(string path) => AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, Json));
}

/// <summary>Whole-file writes that are either complete or absent: temp file, fsync, rename over the old one.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        RagPlatform.Sdk.Storage.Journal.FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Fsyncs a file another writer (the native library) produced, then renames it into place.</summary>
    public static void Commit(string temp, string path)
    {
        using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
