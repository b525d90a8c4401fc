using System.Security.Cryptography;
using System.Text;

namespace RagPlatform.Core.Security;

/// <summary>
/// The key format: <c>rag_&lt;id&gt;_&lt;secret&gt;</c>, a 12-character public id (to find the entry without
/// comparing against every hash) and 32 random bytes in base64url. Only <c>sha256:&lt;hex&gt;</c> of the whole
/// key is stored; a key can be shown once, when it is made.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "rag_";
    private const int IdLength = 12;
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static (string Key, string Id, string Hash) Create()
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, IdLength);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var key = $"{Prefix}{id}_{secret}";
        return (key, id, Hash(key));
    }

    public static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The public id of a well-formed key, else null.</summary>
    public static string? IdOf(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length < Prefix.Length + IdLength + 2 || key[Prefix.Length + IdLength] != '_')
        {
            return null;
        }

        var id = key.Substring(Prefix.Length, IdLength);
        return id.All(c => IdAlphabet.Contains(c, StringComparison.Ordinal)) ? id : null;
    }

    /// <summary>Constant-time comparison of a presented key with a stored hash.</summary>
    public static bool Matches(string key, string storedHash)
    {
        Span<byte> presented = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);
        Span<byte> stored = stackalloc byte[32];
        var hex = storedHash.StartsWith("sha256:", StringComparison.Ordinal) ? storedHash.AsSpan(7) : storedHash.AsSpan();
        if (hex.Length != 64 || Convert.FromHexString(hex, stored, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(presented, stored);
    }
}
