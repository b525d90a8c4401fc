using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Storage;

namespace RagPlatform.Lexical;

/// <summary>
/// One collection's BM25 index. In memory: postings (term → chunk slot → tf), each chunk's length and payload,
/// and the length total BM25 normalises by. A chunk's terms are not kept beside its postings (a few hundred
/// distinct terms per chunk made them the index's largest part): removing a chunk tokenises its stored payload
/// again (<see cref="LexicalEntry.CountTerms"/>, the same code that indexed it) to find its postings. On disk: the platform's <see cref="Journal"/> (snapshot and
/// checksummed log, torn-tail recovery, compaction); a frame body is an operation byte and a JSON list. A write batch
/// is one frame, appended before memory changes, so a torn append (crash, full disk) loses at most that batch.
/// Files of the older format (<c>snapshot.bin</c>/<c>log.bin</c>, records checksummed with SHA-256) are read once
/// and rewritten as a journal.
/// </summary>
internal sealed class LexicalCollection : IDisposable
{
    private const string LegacySnapshotName = "snapshot.bin";
    private const string LegacyLogName = "log.bin";
    private const byte UpsertOperation = 1;
    private const byte DeleteOperation = 2;
    private const int LegacyHeaderBytes = 12;
    private const int SnapshotBatch = 1000;

    // The files are ours, never HTML: keep Hangul as UTF-8 (3 bytes) instead of \uXXXX escapes (6 bytes),
    // which halves the log and snapshot writes of Korean text.
    private static readonly JsonSerializerOptions FileJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly string _directory;
    private readonly LexicalOptions _options;
    private readonly KoreanLexicalTokenizer _tokenizer;
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    // Slots are handed out in order and not reused until the next renumbering, so a stale posting (of a
    // removed chunk) always points at an empty slot and is skipped.
    private readonly List<IndexedChunk> _entries = [];
    // Each slot's length in terms (-1: empty), beside _entries: scoring reads only this for each posting, so a
    // common bigram's tens of thousands of postings touch two flat arrays instead of one object each.
    private readonly List<int> _lengths = [];
    private readonly Dictionary<string, TermPostings> _postings = new(StringComparer.Ordinal);
    private int _emptySlots;
    private readonly Dictionary<string, HashSet<string>> _byDocument = new(StringComparer.Ordinal);
    private long _totalLength;
    private Journal _journal = null!;
    private bool _dropped;

    private LexicalCollection(string directory, LexicalOptions options, KoreanLexicalTokenizer tokenizer)
    {
        _directory = directory;
        _options = options;
        _tokenizer = tokenizer;
    }

    public static LexicalCollection Open(string directory, LexicalOptions options, KoreanLexicalTokenizer tokenizer, ILogger logger)
    {
        var collection = new LexicalCollection(directory, options, tokenizer);
        collection._journal = Journal.Open(directory,
            new JournalOptions { FlushToDisk = options.FlushToDisk, LegacyFiles = [LegacySnapshotName, LegacyLogName] },
            collection.ApplyFrame, logger);
        if (collection._journal.MigrationPending)
        {
            collection.ReplayLegacy(logger);
            collection.Compact();
        }

        // A replayed collection is complete until the next write: give back the lists' spare capacity (a doubling
        // growth leaves a quarter of them unused on average) at the cost of one copy of the postings.
        foreach (var postings in collection._postings.Values)
        {
            postings.TrimExcess();
        }

        return collection;
    }

    /// <summary>False when the collection was dropped meanwhile (the caller opens it afresh).</summary>
    public bool Upsert(IReadOnlyList<LexicalEntry> entries)
    {
        // The record is built before the lock: only the append and the in-memory apply are serialised.
        var body = Body(UpsertOperation, JsonSerializer.SerializeToUtf8Bytes(entries.Select(StoredChunk.From).ToList(), FileJson));
        var replaced = CountHeld(entries.Select(e => e.Id));
        _lock.EnterWriteLock();
        try
        {
            if (_dropped)
            {
                return false;
            }

            _journal.Append(body);
            foreach (var entry in entries)
            {
                Apply(entry, replaced);
            }

            CompactIfDue();
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool Delete(IEnumerable<string> ids)
    {
        var wanted = ids.Distinct(StringComparer.Ordinal).ToList();
        var counted = CountHeld(wanted);
        _lock.EnterWriteLock();
        try
        {
            if (_dropped)
            {
                return false;
            }

            var present = wanted.Where(_slots.ContainsKey).ToList();
            if (present.Count > 0)
            {
                _journal.Append(Body(DeleteOperation, JsonSerializer.SerializeToUtf8Bytes(present, FileJson)));
                foreach (var id in present)
                {
                    Remove(id, counted);
                }

                CompactIfDue();
            }

            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool DeleteDocument(string documentId)
    {
        List<string> ids;
        _lock.EnterReadLock();
        try
        {
            ids = _byDocument.TryGetValue(documentId, out var held) ? [.. held] : [];
        }
        finally
        {
            _lock.ExitReadLock();
        }

        // Deleting by id is idempotent, so chunks added between the two locks are the caller's race, as with vectors.
        return Delete(ids);
    }

    public void Drop()
    {
        _lock.EnterWriteLock();
        try
        {
            _dropped = true;
            _journal.Dispose();
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <param name="query">The query's distinct terms with their weights (<see cref="LexicalAnalysis.WeighQueryTerms"/>), in query order.</param>
    public IReadOnlyList<VectorSearchHit> Search(List<(string Term, double Weight)> query, int topK, VectorFilter? filter, double k1, double b)
    {
        _lock.EnterReadLock();
        try
        {
            var n = _slots.Count;
            if (n == 0)
            {
                return [];
            }

            var weighted = new List<(TermPostings Postings, double Weight)>(query.Count);
            foreach (var (term, weight) in query)
            {
                if (_postings.TryGetValue(term, out var postings))
                {
                    var df = postings.Live;
                    var idf = Math.Log(1 + ((n - df + 0.5) / (df + 0.5)));
                    weighted.Add((postings, weight * idf * (k1 + 1)));
                }
            }

            if (weighted.Count == 0)
            {
                return [];
            }

            using var bm25 = new Bm25TopK(CollectionsMarshal.AsSpan(_lengths), k1, b, (double)_totalLength / n);
            var top = bm25.Search(CollectionsMarshal.AsSpan(weighted), _entries.Count, topK,
                slot => _entries[slot].Id!, filter is null ? null : slot => filter.Matches(_entries[slot].Payload!));
            return top.ConvertAll(t => new VectorSearchHit(_entries[t.Slot].Id!, (float)t.Score, _entries[t.Slot].Payload!));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every chunk id the collection holds.</summary>
    public IReadOnlyList<string> Ids()
    {
        _lock.EnterReadLock();
        try
        {
            return [.. _slots.Keys];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public LexicalIndexState Inspect()
    {
        _lock.EnterReadLock();
        try
        {
            var postings = new SortedDictionary<string, IReadOnlyList<(string Id, int Tf)>>(StringComparer.Ordinal);
            foreach (var (term, list) in _postings)
            {
                var live = new List<(string Id, int Tf)>(list.Live);
                for (var p = 0; p < list.Count; p++)
                {
                    if (_entries[list.Slots[p]].Id is { } id)
                    {
                        live.Add((id, list.Frequencies[p]));
                    }
                }

                postings[term] = live.OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
            }

            return new LexicalIndexState(_slots.Count, _totalLength, postings);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            _journal.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// The terms of the chunks the collection holds under <paramref name="ids"/>, counted from their payloads
    /// (read under the read lock) before a write takes the write lock: tokenising again is what removing a chunk
    /// costs, and searches wait while the write lock is held. Keyed by id; each count names the payload it was
    /// made from, so a chunk rewritten before the write lock is counted again inside it.
    /// </summary>
    private Dictionary<string, CountedChunk> CountHeld(IEnumerable<string> ids)
    {
        var held = new List<(string Id, PointPayload Payload)>();
        _lock.EnterReadLock();
        try
        {
            foreach (var id in ids)
            {
                if (_slots.TryGetValue(id, out var slot))
                {
                    held.Add((id, _entries[slot].Payload!));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        var counted = new Dictionary<string, CountedChunk>(held.Count, StringComparer.Ordinal);
        foreach (var (id, payload) in held)
        {
            counted[id] = CountTerms(payload);
        }

        return counted;
    }

    private CountedChunk CountTerms(PointPayload payload)
    {
        var terms = LexicalEntry.CountTerms(payload, _tokenizer, out var length);
        return new CountedChunk(payload, [.. terms.Keys], length);
    }

    private void Apply(LexicalEntry entry, IReadOnlyDictionary<string, CountedChunk>? counted = null)
    {
        Remove(entry.Id, counted);
        var slot = _entries.Count;
        _entries.Add(new IndexedChunk(entry.Id, entry.Payload));
        _lengths.Add(entry.Length);
        _slots[entry.Id] = slot;
        var lengths = CollectionsMarshal.AsSpan(_lengths);
        for (var i = 0; i < entry.Terms.Length; i++)
        {
            ref var postings = ref CollectionsMarshal.GetValueRefOrAddDefault(_postings, entry.Terms[i], out _);
            postings ??= new TermPostings();
            postings.Add(slot, entry.Frequencies[i], entry.Length, lengths);
        }

        _totalLength += entry.Length;
        ref var ids = ref CollectionsMarshal.GetValueRefOrAddDefault(_byDocument, entry.Payload.DocumentId, out _);
        ids ??= new HashSet<string>(StringComparer.Ordinal);
        ids.Add(entry.Id);
    }

    private void Remove(string id) => Remove(id, null);

    /// <param name="id">The chunk to remove, if held.</param>
    /// <param name="counted">Terms counted before the write lock (<see cref="CountHeld"/>), used when counted from
    /// the payload the slot still holds.</param>
    private void Remove(string id, IReadOnlyDictionary<string, CountedChunk>? counted)
    {
        if (!_slots.TryGetValue(id, out var slot))
        {
            return;
        }

        var chunk = _entries[slot];
        var length = _lengths[slot];
        // The chunk's terms, found again from its payload by the code that indexed it (the tokenizer is fixed for
        // the collection's life). Checked before anything changes: a different count would mean other postings.
        var terms = counted is not null && counted.TryGetValue(id, out var known) && ReferenceEquals(known.Payload, chunk.Payload)
            ? known
            : CountTerms(chunk.Payload!);
        if (terms.Length != length)
        {
            throw new InvalidOperationException(
                $"Chunk '{id}' tokenises to {terms.Length} terms now but was indexed with {length}; its postings cannot be found.");
        }

        _slots.Remove(id);
        _entries[slot] = default;
        _lengths[slot] = -1;
        _emptySlots++;
        foreach (var term in terms.Terms)
        {
            var postings = _postings[term];
            var mostlyRemoved = postings.MarkRemoved();
            if (postings.Live == 0)
            {
                _postings.Remove(term);
            }
            else if (mostlyRemoved)
            {
                postings.Compact(CollectionsMarshal.AsSpan(_lengths));
            }
        }

        _totalLength -= length;
        var ids = _byDocument[chunk.Payload!.DocumentId];
        ids.Remove(id);
        if (ids.Count == 0)
        {
            _byDocument.Remove(chunk.Payload.DocumentId);
        }

        if (_emptySlots > 1024 && _emptySlots > _slots.Count)
        {
            Renumber();
        }
    }

    /// <summary>Packs the live chunks into slots 0..n-1 and moves every postings list to the new numbers, so that
    /// churn (re-indexing, deletes) cannot grow the slot table and the stale postings without bound. The slot
    /// map keeps order, so no chunk is tokenised again and each list stays sorted by slot.</summary>
    private void Renumber()
    {
        var newSlots = new int[_entries.Count];
        var next = 0;
        for (var slot = 0; slot < _entries.Count; slot++)
        {
            if (_entries[slot].Id is { } id)
            {
                _entries[next] = _entries[slot];
                _lengths[next] = _lengths[slot];
                _slots[id] = next;
                newSlots[slot] = next++;
            }
            else
            {
                newSlots[slot] = -1;
            }
        }

        _entries.RemoveRange(next, _entries.Count - next);
        _lengths.RemoveRange(next, _lengths.Count - next);
        _emptySlots = 0;
        var lengths = CollectionsMarshal.AsSpan(_lengths);
        foreach (var postings in _postings.Values)
        {
            postings.Renumber(newSlots, lengths);
        }
    }

    /// <summary>Applies one journal frame: an operation byte and its JSON list.</summary>
    private void ApplyFrame(ReadOnlySpan<byte> body, JournalPart part)
    {
        if (body.IsEmpty || !TryApply(body[0], body[1..]))
        {
            throw new InvalidDataException($"Unknown record in the lexical {part} of '{_directory}'.");
        }
    }

    private bool TryApply(byte operation, ReadOnlySpan<byte> json)
    {
        switch (operation)
        {
            case UpsertOperation:
                foreach (var stored in JsonSerializer.Deserialize<List<StoredChunk>>(json, FileJson)!)
                {
                    Apply(LexicalEntry.Create(stored.Id, stored.ToPayload(), _tokenizer));
                }

                return true;
            case DeleteOperation:
                JsonSerializer.Deserialize<List<string>>(json, FileJson)!.ForEach(Remove);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Reads the files of the format before the journal (records <c>[int32 length][first 8 bytes of SHA-256 of
    /// body][body]</c>, the same bodies): the snapshot, then the log up to its first torn record.
    /// </summary>
    private void ReplayLegacy(ILogger logger)
    {
        foreach (var name in (string[])[LegacySnapshotName, LegacyLogName])
        {
            var path = Path.Combine(_directory, name);
            if (!File.Exists(path))
            {
                continue;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var header = new byte[LegacyHeaderBytes];
            long valid = 0;
            while (stream.ReadAtLeast(header, LegacyHeaderBytes, throwOnEndOfStream: false) == LegacyHeaderBytes)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                if (length < 1 || length > stream.Length - valid - LegacyHeaderBytes)
                {
                    break;
                }

                var body = new byte[length];
                if (stream.ReadAtLeast(body, length, throwOnEndOfStream: false) < length
                    || !SHA256.HashData(body).AsSpan(0, 8).SequenceEqual(header.AsSpan(4, 8))
                    || !TryApply(body[0], body.AsSpan(1)))
                {
                    break;
                }

                valid += LegacyHeaderBytes + length;
            }

            if (valid != stream.Length)
            {
                if (name == LegacySnapshotName)
                {
                    throw new InvalidDataException($"Lexical snapshot '{path}' is damaged at byte {valid}.");
                }

                logger.LogWarning("Lexical log {Path}: incomplete record at byte {Offset} of {Length} (interrupted write) ignored", path, valid, stream.Length);
            }
        }
    }

    private static byte[] Body(byte operation, byte[] json)
    {
        var body = new byte[1 + json.Length];
        body[0] = operation;
        json.CopyTo(body, 1);
        return body;
    }

    private void CompactIfDue()
    {
        if (_journal.LogBytes >= _options.CompactAfterLogBytes)
        {
            Compact();
        }
    }

    private void Compact()
    {
        var live = _entries.Where(e => e.Id is not null).Select(e => StoredChunk.From(e.Id!, e.Payload!)).ToList();
        _journal.Compact(live.Count, snapshot =>
        {
            for (var i = 0; i < live.Count; i += SnapshotBatch)
            {
                snapshot.Write(Body(UpsertOperation, JsonSerializer.SerializeToUtf8Bytes(live.GetRange(i, Math.Min(SnapshotBatch, live.Count - i)), FileJson)));
            }
        });
    }

    /// <summary>A chunk as the files hold it: the payload only; terms are recomputed when the index is opened.</summary>
    private sealed record StoredChunk(
        string Id, string DocumentId, string? Title, string Text, List<string> Tags,
        Dictionary<string, JsonElement> Metadata, string ContentHash, int Ordinal)
    {
        public static StoredChunk From(LexicalEntry entry) => From(entry.Id, entry.Payload);

        public static StoredChunk From(string id, PointPayload p) =>
            new(id, p.DocumentId, p.Title, p.Text, [.. p.Tags],
                new Dictionary<string, JsonElement>(p.Metadata, StringComparer.Ordinal), p.ContentHash, p.Ordinal);

        public PointPayload ToPayload() => new(DocumentId, Title, Text, Tags, Metadata, ContentHash, Ordinal);
    }

    /// <summary>What a slot holds: the chunk's id and payload (both null for an emptied slot), inline in the slot
    /// table rather than an object per chunk.</summary>
    private readonly record struct IndexedChunk(string? Id, PointPayload? Payload);

    /// <summary>A chunk's distinct terms and length, counted from <paramref name="Payload"/>.</summary>
    private sealed record CountedChunk(PointPayload Payload, string[] Terms, int Length);
}
