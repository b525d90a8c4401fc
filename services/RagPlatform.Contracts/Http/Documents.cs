using System.Text.Json;

namespace RagPlatform.Contracts.Http;

/// <summary>One document of a <c>POST /v1/collections/{name}/documents</c> batch.</summary>
public sealed record DocumentInput(
    string? Id,
    string? Title,
    string? Text,
    IReadOnlyList<string?>? Tags,
    IReadOnlyDictionary<string, JsonElement>? Metadata);

public sealed record JobAccepted(Guid JobId, string Collection, int Documents);

public sealed record JobItemError(string Id, string Error);

/// <summary>Progress of an ingestion job. Counts are documents unless prefixed with "chunks".</summary>
public sealed record JobStatus(
    Guid JobId,
    string Collection,
    string State,
    int Total,
    int Processed,
    int Succeeded,
    int Failed,
    int Skipped,
    int Unchanged,
    long ChunksEmbedded,
    long ChunksReused,
    long ChunksUnchanged,
    long ChunksDeleted,
    IReadOnlyList<JobItemError> Errors,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string CompletedWithErrors = "completed_with_errors";
    public const string Failed = "failed";

    public static bool IsFinal(string state) => state is Completed or CompletedWithErrors or Failed;
}

/// <summary>What became of one file of a <c>POST /v1/collections/{name}/files</c> request.</summary>
public static class FileStatuses
{
    /// <summary>Parsed and queued for embedding (the job reports when it is searchable).</summary>
    public const string Parsed = "parsed";

    /// <summary>The collection already holds this file's content under this id: not parsed, nothing embedded.</summary>
    public const string Unchanged = "unchanged";

    /// <summary>Refused with <see cref="FileResult.Error"/>; nothing of it was written.</summary>
    public const string Failed = "failed";
}

/// <summary>
/// One file's outcome. <c>Failure</c> says why it failed (<c>unsupported</c>, <c>corrupt</c>, <c>protected</c>,
/// <c>too_large</c>, <c>empty</c>, <c>wrong_type</c>, <c>invalid</c>, <c>conflict</c>); <c>ContentType</c> is what its
/// bytes were found to be, never what its name or the upload claimed.
/// </summary>
public sealed record FileResult(
    string Name,
    string DocumentId,
    string Status,
    string? ContentType = null,
    string? Parser = null,
    string? Title = null,
    int? Pages = null,
    int? Sections = null,
    int? Tables = null,
    int? Chunks = null,
    long Bytes = 0,
    string? Failure = null,
    string? Error = null);

/// <summary>Answer of <c>POST /v1/collections/{name}/files</c>: the job (every file is one of its items) and each file's outcome.</summary>
public sealed record FilesAccepted(Guid JobId, string Collection, int Documents, IReadOnlyList<FileResult> Files);

/// <summary>A document a collection holds (or is working towards): its id, and whether it is searchable yet.</summary>
public sealed record DocumentListEntry(string Id, bool Indexed);

/// <summary>
/// A page of <c>GET /v1/collections/{name}/documents</c>, in id order (ordinal); <c>Next</c> is the <c>after</c>
/// value of the next page, null on the last.
/// </summary>
public sealed record DocumentList(IReadOnlyList<DocumentListEntry> Documents, string? Next);
