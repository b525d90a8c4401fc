using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Vectors;

/// <summary>The first line of a snapshot: what the collection is, so a restore can rebuild it anywhere.</summary>
public sealed record SnapshotHeader(
    string Format,
    int FormatVersion,
    string Collection,
    DateTimeOffset CreatedAt,
    string SourceBackend,
    int Dimensions,
    DistanceMetric Metric,
    string Fingerprint,
    CollectionSettings Settings,
    long Points);

/// <summary>One line of a snapshot after the header.</summary>
public sealed record SnapshotLine(
    string Kind,
    string? Id = null,
    string? Vector = null,
    SnapshotPayload? Payload = null,
    StoredChunk? Chunk = null,
    long? Points = null,
    long? Chunks = null,
    string? Sha256 = null);

public sealed record SnapshotPayload(
    string DocumentId, string? Title, string Text, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, JsonElement> Metadata, string ContentHash, int Ordinal)
{
    public static SnapshotPayload From(PointPayload p) => new(p.DocumentId, p.Title, p.Text, p.Tags, p.Metadata, p.ContentHash, p.Ordinal);

    public PointPayload ToPayload() => new(DocumentId, Title, Text, Tags, Metadata, ContentHash, Ordinal);
}

/// <summary>
/// The portable snapshot file of <c>rag backup</c> / <c>rag restore</c> (format version 1): gzip over UTF-8 JSON
/// lines. Line 1 is the <see cref="SnapshotHeader"/>; then one <c>point</c> line per point (vector as base64 of
/// little-endian float32, exact to the bit, and the whole payload); then one <c>chunk</c> line per chunk row of the
/// metadata store; last an <c>end</c> line with the counts and the SHA-256 (hex) of every uncompressed byte before it.
/// A file without a matching end line is refused before anything is written.
/// </summary>
public static class CollectionSnapshot
{
    public const string FormatName = "ragplatform-collection-snapshot";
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new(CliJson.Options)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    public sealed record WriteSummary(long Points, long Chunks, long Bytes, string Sha256);

    public static async Task<WriteSummary> WriteAsync(
        string path,
        SnapshotHeader header,
        IAsyncEnumerable<VectorPoint> points,
        Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyList<StoredChunk>>> chunksOfDocuments,
        CancellationToken cancellationToken)
    {
        var temporary = path + ".partial";
        long pointCount = 0, chunkCount = 0;
        string digest;
        await using (var file = File.Create(temporary))
        {
            await using var gzip = new GZipStream(file, CompressionLevel.Optimal);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            async Task WriteLineAsync<T>(T value)
            {
                var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, Json) + "\n");
                hash.AppendData(bytes);
                await gzip.WriteAsync(bytes, cancellationToken);
            }

            await WriteLineAsync(header);
            var documents = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var point in points.WithCancellation(cancellationToken))
            {
                await WriteLineAsync(new SnapshotLine("point", point.Id, EncodeVector(point.Vector), SnapshotPayload.From(point.Payload)));
                documents.Add(point.Payload.DocumentId);
                pointCount++;
            }

            foreach (var batch in documents.Order(StringComparer.Ordinal).Chunk(500))
            {
                foreach (var chunk in await chunksOfDocuments(batch, cancellationToken))
                {
                    await WriteLineAsync(new SnapshotLine("chunk", Chunk: chunk));
                    chunkCount++;
                }
            }

            digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            var end = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new SnapshotLine("end", Points: pointCount, Chunks: chunkCount, Sha256: digest), Json) + "\n");
            await gzip.WriteAsync(end, cancellationToken);
        }

        File.Move(temporary, path, overwrite: true);
        return new WriteSummary(pointCount, chunkCount, new FileInfo(path).Length, digest);
    }

    /// <summary>Reads the whole file once to check its header, counts and checksum; returns the header and the chunk rows.</summary>
    public static async Task<(SnapshotHeader Header, IReadOnlyList<StoredChunk> Chunks)> VerifyAsync(string path, CancellationToken cancellationToken)
    {
        SnapshotHeader? header = null;
        var chunks = new List<StoredChunk>();
        long points = 0;
        SnapshotLine? end = null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await foreach (var (line, raw) in ReadRawLinesAsync(path, cancellationToken))
        {
            if (end is not null)
            {
                throw new CliException($"{path}: data after the end line.");
            }

            if (header is null)
            {
                header = ParseHeader(path, line);
                hash.AppendData(raw);
                continue;
            }

            var parsed = Parse(path, line);
            switch (parsed.Kind)
            {
                case "end":
                    end = parsed;
                    continue;
                case "point":
                    points++;
                    break;
                case "chunk" when parsed.Chunk is not null:
                    chunks.Add(parsed.Chunk);
                    break;
                default:
                    throw new CliException($"{path}: unknown line kind '{parsed.Kind}'.");
            }

            hash.AppendData(raw);
        }

        if (header is null || end is null)
        {
            throw new CliException($"{path} is truncated (no end line): the backup did not finish.");
        }

        var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(digest, end.Sha256, StringComparison.Ordinal) || end.Points != points || end.Chunks != chunks.Count || header.Points != points)
        {
            throw new CliException($"{path} is damaged: its checksum or counts do not match its contents.");
        }

        return (header, chunks);
    }

    /// <summary>The points of a verified file, in file order.</summary>
    public static async IAsyncEnumerable<VectorPoint> ReadPointsAsync(string path, int dimensions, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var first = true;
        await foreach (var (line, _) in ReadRawLinesAsync(path, cancellationToken))
        {
            if (first)
            {
                first = false;
                continue;
            }

            var parsed = Parse(path, line);
            if (parsed.Kind == "point")
            {
                yield return new VectorPoint(parsed.Id!, DecodeVector(parsed.Vector!, dimensions), parsed.Payload!.ToPayload());
            }
        }
    }

    public static string EncodeVector(float[] vector) => Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()));

    public static float[] DecodeVector(string base64, int dimensions)
    {
        var bytes = Convert.FromBase64String(base64);
        if (bytes.Length != dimensions * sizeof(float))
        {
            throw new CliException($"a snapshot vector has {bytes.Length / sizeof(float)} values; the collection has {dimensions}.");
        }

        // The format is little-endian; so is every platform .NET runs this on (checked, not assumed).
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Snapshots are read on little-endian machines only.");
        }

        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private static SnapshotHeader ParseHeader(string path, string line)
    {
        SnapshotHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<SnapshotHeader>(line, Json);
        }
        catch (JsonException)
        {
            header = null;
        }

        if (header is null || header.Format != FormatName)
        {
            throw new CliException($"{path} is not a RagPlatform collection snapshot.");
        }

        if (header.FormatVersion != FormatVersion)
        {
            throw new CliException($"{path} has snapshot format version {header.FormatVersion}; this rag reads version {FormatVersion}.");
        }

        return header;
    }

    private static SnapshotLine Parse(string path, string line)
    {
        try
        {
            return JsonSerializer.Deserialize<SnapshotLine>(line, Json) ?? throw new CliException($"{path}: an empty line.");
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is damaged: {e.Message}");
        }
    }

    private static async IAsyncEnumerable<(string Line, byte[] Raw)> ReadRawLinesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{path} does not exist.");
        }

        await using var file = File.OpenRead(path);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, new UTF8Encoding(false, true));
        string? line;
        while (true)
        {
            try
            {
                line = await reader.ReadLineAsync(cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or DecoderFallbackException or EndOfStreamException)
            {
                throw new CliException($"{path} is damaged: {e.Message}");
            }

            if (line is null)
            {
                yield break;
            }

            yield return (line, Encoding.UTF8.GetBytes(line + "\n"));
        }
    }
}
