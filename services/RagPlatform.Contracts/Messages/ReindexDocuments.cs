namespace RagPlatform.Contracts.Messages;

/// <summary>
/// Command to the embedding workers: copy these documents of a collection into the version its running re-index
/// builds (job <see cref="JobId"/>), re-embedding their stored chunk texts with that version's model. Idempotent.
/// </summary>
public sealed record ReindexDocuments(Guid JobId, string Collection, int TargetVersion, IReadOnlyList<string> DocumentIds);
