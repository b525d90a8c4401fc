using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RagPlatform.Tokenizers;

/// <summary>
/// SentencePiece's precompiled normalisation rules (the "precompiled_charsmap" of a tokenizer.json, base64).
/// The blob is: a little-endian uint32 with the trie's size in bytes; the trie, a darts-clone double array of
/// uint32 units keyed by the UTF-8 bytes of the source text; then the replacement strings, each NUL-terminated,
/// which the trie's leaf values point into. Normalising takes, at each position, the LONGEST rule that matches
/// (SentencePiece's NormalizePrefix) and copies one character when none does.
/// </summary>
internal sealed class PrecompiledCharsMap
{
    private readonly uint[] units;
    private readonly Dictionary<int, string> replacements;

    private PrecompiledCharsMap(uint[] units, Dictionary<int, string> replacements)
    {
        this.units = units;
        this.replacements = replacements;
    }

    public static PrecompiledCharsMap Parse(byte[] blob)
    {
        if (blob.Length < 4)
        {
            throw new FormatException("precompiled_charsmap is shorter than its 4-byte header.");
        }

        int trieSize = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(blob));
        if (trieSize % 4 != 0 || trieSize > blob.Length - 4)
        {
            throw new FormatException($"precompiled_charsmap declares a {trieSize}-byte trie in a {blob.Length}-byte blob.");
        }

        var units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++)
        {
            units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + (i * 4)));
        }

        // Every leaf unit (bit 31 set) holds an offset into the replacement strings: decode each once, up front.
        var strings = blob.AsSpan(4 + trieSize);
        var replacements = new Dictionary<int, string>();
        foreach (uint unit in units)
        {
            if ((unit & 0x8000_0000u) == 0)
            {
                continue;
            }

            int offset = (int)(unit & 0x7FFF_FFFFu);
            if (offset >= strings.Length || replacements.ContainsKey(offset))
            {
                continue;
            }

            int end = strings[offset..].IndexOf((byte)0);
            var bytes = end < 0 ? strings[offset..] : strings.Slice(offset, end);
            replacements[offset] = Encoding.UTF8.GetString(bytes);
        }

        return new PrecompiledCharsMap(units, replacements);
    }

    public string Normalize(string text)
    {
        // The text as UTF-8 (the trie's alphabet) once, with the char index each byte comes from; a lone surrogate
        // (no UTF-8 form) becomes a 0 byte, which no rule matches.
        byte[] utf8 = ArrayPool<byte>.Shared.Rent((text.Length * 3) + 1);
        int[] charIndex = ArrayPool<int>.Shared.Rent((text.Length * 3) + 1);
        try
        {
            int length = 0;
            for (int i = 0; i < text.Length;)
            {
                int c = TextRules.CodePointAt(text, i, out int width);
                int written = c is >= 0xD800 and <= 0xDFFF ? 1 : new Rune(c).EncodeToUtf8(utf8.AsSpan(length));
                if (written == 1 && c is >= 0xD800 and <= 0xDFFF)
                {
                    utf8[length] = 0;
                }

                for (int b = 0; b < written; b++)
                {
                    charIndex[length + b] = i;
                }

                length += written;
                i += width;
            }

            charIndex[length] = text.Length;
            return Apply(text, utf8.AsSpan(0, length), charIndex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
            ArrayPool<int>.Shared.Return(charIndex);
        }
    }

    private string Apply(string text, ReadOnlySpan<byte> utf8, int[] charIndex)
    {
        StringBuilder? builder = null;
        int position = 0;
        while (position < utf8.Length)
        {
            int start = charIndex[position];
            int matched = LongestMatch(utf8[position..], out int value);
            if (matched > 0 && IsCharBoundary(utf8, position + matched) && replacements.TryGetValue(value, out string? replacement))
            {
                int consumed = charIndex[position + matched] - start;
                bool unchanged = replacement.Length == consumed && string.CompareOrdinal(text, start, replacement, 0, consumed) == 0;
                if (!unchanged && builder is null)
                {
                    builder = new StringBuilder(text.Length + 8).Append(text, 0, start);
                }

                builder?.Append(replacement);
                position += matched;
                continue;
            }

            int next = position + 1;
            while (!IsCharBoundary(utf8, next))
            {
                next++;
            }

            builder?.Append(text, start, charIndex[next] - start);
            position = next;
        }

        return builder?.ToString() ?? text;
    }

    private static bool IsCharBoundary(ReadOnlySpan<byte> utf8, int index) =>
        index >= utf8.Length || (utf8[index] & 0xC0) != 0x80;

    // darts-clone commonPrefixSearch, keeping the longest key that is a prefix of the input.
    private int LongestMatch(ReadOnlySpan<byte> key, out int value)
    {
        value = 0;
        int best = 0;
        if (units.Length == 0)
        {
            return 0;
        }

        uint position = Offset(units[0]);
        for (int i = 0; i < key.Length; i++)
        {
            byte label = key[i];
            if (label == 0)
            {
                break;
            }

            position ^= label;
            if (position >= units.Length)
            {
                break;
            }

            uint unit = units[position];
            if ((unit & 0x8000_00FFu) != label)
            {
                break;
            }

            position ^= Offset(unit);
            if (((unit >> 8) & 1) == 1 && position < units.Length)
            {
                value = (int)(units[position] & 0x7FFF_FFFFu);
                best = i + 1;
            }
        }

        return best;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
