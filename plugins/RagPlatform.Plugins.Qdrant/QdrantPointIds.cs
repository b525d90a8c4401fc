using System.Security.Cryptography;
using System.Text;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// Qdrant accepts only unsigned integers or UUIDs as point ids. Our ids are UUIDs already (ContentHashing.PointId);
/// any other id string maps to a deterministic UUID (SHA-256, marked version 8), and the original id travels in
/// the payload (<c>point_id</c>), so every id round-trips exactly.
/// </summary>
internal static class QdrantPointIds
{
    public static Guid For(string pointId)
    {
        if (Guid.TryParseExact(pointId, "D", out var guid))
        {
            return guid;
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(pointId), digest);
        var bytes = digest[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
