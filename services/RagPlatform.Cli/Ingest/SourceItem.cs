using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

public enum SourceItemKind
{
    /// <summary>A document to post.</summary>
    Document,

    /// <summary>Nothing to index (an empty file); counted, not an error.</summary>
    Skipped,

    /// <summary>Input that cannot become a document (a malformed JSON line); counted as failed.</summary>
    Invalid,
}

/// <summary>One thing read from the inputs, with where it came from for messages ("notes/a.md", "corpus.jsonl:17").</summary>
public sealed record SourceItem(SourceItemKind Kind, string Origin, DocumentInput? Document, string? Problem)
{
    public static SourceItem Of(DocumentInput document, string origin) => new(SourceItemKind.Document, origin, document, null);

    public static SourceItem Skip(string origin, string reason) => new(SourceItemKind.Skipped, origin, null, reason);

    public static SourceItem Invalid(string origin, string problem) => new(SourceItemKind.Invalid, origin, null, problem);
}
