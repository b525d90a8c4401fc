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
