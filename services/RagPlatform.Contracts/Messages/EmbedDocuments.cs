using System.Text.Json;

namespace RagPlatform.Contracts.Messages;

/// <summary>
/// Command to the embedding workers: bring these documents of a collection to the given revisions.
/// Each document carries its complete new chunk list; the worker compares it with what the collection
/// holds and embeds only what is new. Processing is idempotent, so redelivery is harmless.
/// </summary>
public sealed record EmbedDocuments(Guid JobId, string Collection, IReadOnlyList<DocumentWork> Documents);

public sealed record DocumentWork(
    string DocumentId,
    long Revision,
    string DocumentHash,
    string? Title,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    IReadOnlyList<ChunkWork> Chunks);

/// <summary>
/// A chunk to hold: its deterministic point id, its content hash (normalised text + chunking parameters), its text,
/// and, for a chunk of a parsed file, the heading path above it and the pages it spans (absent for JSON documents).
/// </summary>
public sealed record ChunkWork(string PointId, string ContentHash, int Ordinal, string Text, string? Section = null, int? PageStart = null, int? PageEnd = null);
