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

    /// <summary>A file the server parses (PDF, Office, HTML, Markdown, HWPX, HWP, text): posted as it is to <c>…/files</c>.</summary>
    File,
}

/// <summary>
/// One thing read from the inputs, with where it came from for messages ("notes/a.md", "corpus.jsonl:17"). A
/// <see cref="SourceItemKind.File"/> carries the file's path; its <see cref="Origin"/> is its name and document id.
/// </summary>
public sealed record SourceItem(SourceItemKind Kind, string Origin, DocumentInput? Document, string? Problem, string? Path = null)
{
    public static SourceItem OfFile(string path, string id) => new(SourceItemKind.File, id, null, null, path);

    public static SourceItem Of(DocumentInput document, string origin) => new(SourceItemKind.Document, origin, document, null);

    public static SourceItem Skip(string origin, string reason) => new(SourceItemKind.Skipped, origin, null, reason);

    public static SourceItem Invalid(string origin, string problem) => new(SourceItemKind.Invalid, origin, null, problem);
}
