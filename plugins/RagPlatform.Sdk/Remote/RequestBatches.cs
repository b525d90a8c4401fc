namespace RagPlatform.Sdk.Remote;

/// <summary>Splits already-serialised items into request bodies that respect a service's count and size limits.</summary>
public static class RequestBatches
{
    /// <summary>
    /// Consecutive groups of <paramref name="items"/>, each at most <paramref name="maxItems"/> long and at most
    /// <paramref name="maxBytes"/> once wrapped (<paramref name="envelopeBytes"/> plus one separator byte per item).
    /// </summary>
    /// <exception cref="ArgumentException">One item alone does not fit; the message names its index.</exception>
    public static List<ArraySegment<byte[]>> Split(byte[][] items, int maxItems, long maxBytes, int envelopeBytes)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        var batches = new List<ArraySegment<byte[]>>();
        var start = 0;
        long size = envelopeBytes;
        for (var i = 0; i < items.Length; i++)
        {
            var itemSize = items[i].Length + 1L;
            if (envelopeBytes + itemSize > maxBytes)
            {
                throw new ArgumentException(
                    $"Item {i} needs {itemSize + envelopeBytes} bytes in a request; the limit is {maxBytes}.", nameof(items));
            }

            if (i > start && (i - start == maxItems || size + itemSize > maxBytes))
            {
                batches.Add(new ArraySegment<byte[]>(items, start, i - start));
                start = i;
                size = envelopeBytes;
            }

            size += itemSize;
        }

        if (items.Length > start)
        {
            batches.Add(new ArraySegment<byte[]>(items, start, items.Length - start));
        }

        return batches;
    }

    /// <summary>Writes <c>prefix item,item,… suffix</c> as one body.</summary>
    public static byte[] Join(ReadOnlySpan<byte> prefix, ArraySegment<byte[]> items, ReadOnlySpan<byte> suffix)
    {
        var length = prefix.Length + suffix.Length + Math.Max(0, items.Count - 1);
        foreach (var item in items)
        {
            length += item.Length;
        }

        var body = new byte[length];
        var offset = 0;
        prefix.CopyTo(body);
        offset += prefix.Length;
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                body[offset++] = (byte)',';
            }

            items[i].CopyTo(body, offset);
            offset += items[i].Length;
        }

        suffix.CopyTo(body.AsSpan(offset));
        return body;
    }
}
