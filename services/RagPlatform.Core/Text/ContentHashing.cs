using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Text;

/// <summary>
/// The hashes that make ingestion idempotent. All are SHA-256 over UTF-8 with explicit separators, so
/// they are stable across processes, machines and versions of .NET.
/// </summary>
public static class ContentHashing
{
    /// <summary>Content hash of a chunk: its normalised text under a chunking scheme and parameters.</summary>
    public static string ChunkHash(string chunkingParameters, string chunkText) =>
        Hex(chunkingParameters, "\u001F", chunkText);

    /// <summary>
    /// Deterministic point id (UUID text form, as Qdrant and pgvector accept) of the
    /// <paramref name="occurrence"/>-th chunk with that content hash in a document. Unchanged chunks keep
    /// their ids when the text around them changes, so they are neither re-embedded nor duplicated.
    /// </summary>
    public static string PointId(string collection, string documentId, string contentHash, int occurrence)
    {
        Span<byte> digest = stackalloc byte[32];
        HashParts(digest, collection, "\u001F", documentId, "\u001F", contentHash, "\u001F", occurrence.ToString(CultureInfo.InvariantCulture));
        var bytes = digest[..16];
        // Mark as an RFC 9562 version-8 (custom) UUID, so strict parsers accept it.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString("D");
    }

    /// <summary>Hash of what a document's points carry besides their text: title, tags, metadata.</summary>
    public static string PayloadHash(string? title, IReadOnlyList<string> tags, IReadOnlyDictionary<string, JsonElement> metadata)
    {
        var builder = new StringBuilder();
        builder.Append(title ?? "\u0000").Append('\u001E');
        foreach (var tag in tags)
        {
            builder.Append(tag).Append('\u001F');
        }

        builder.Append('\u001E');
        foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            builder.Append(key).Append('\u001F').Append(value.GetRawText()).Append('\u001F');
        }

        return Hex(builder.ToString());
    }

    /// <summary>Hash of a whole document: payload plus the ordered chunk hashes. Equal hash = nothing to do.</summary>
    public static string DocumentHash(string payloadHash, IEnumerable<string> chunkHashes) =>
        Hex(payloadHash, "\u001E", string.Join('\u001F', chunkHashes));

    /// <summary>
    /// Hash of a chunk's payload at its position and, for a parsed file, its location (re-upserted, not re-embedded,
    /// when it changes). Without a location it is what it always was, so chunks stored before locations existed stay current.
    /// </summary>
    public static string ChunkPayloadHash(string payloadHash, int ordinal, ChunkLocation? location = null) =>
        location is null || location.IsEmpty
            ? Hex(payloadHash, "\u001F", ordinal.ToString(CultureInfo.InvariantCulture))
            : Hex(payloadHash, "\u001F", ordinal.ToString(CultureInfo.InvariantCulture), "\u001F", location.HashText());

    /// <summary>SHA-256 hex of arbitrary text (cache keys).</summary>
    public static string Hex(params string[] parts)
    {
        Span<byte> digest = stackalloc byte[32];
        HashParts(digest, parts);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>One-shot SHA-256 of the parts' UTF-8 concatenation: a pooled buffer, no hasher object per call.</summary>
    private static void HashParts(Span<byte> digest, params string[] parts)
    {
        var max = 0;
        foreach (var part in parts)
        {
            max += Encoding.UTF8.GetMaxByteCount(part.Length);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var written = 0;
            foreach (var part in parts)
            {
                written += Encoding.UTF8.GetBytes(part, buffer.AsSpan(written));
            }

            SHA256.HashData(buffer.AsSpan(0, written), digest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
