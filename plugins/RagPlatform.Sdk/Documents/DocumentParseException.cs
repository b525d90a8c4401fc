namespace RagPlatform.Sdk.Documents;

/// <summary>Why a file could not become a document. The host reports it per file; nothing of the file is written.</summary>
public enum DocumentParseFailure
{
    /// <summary>No parser reads this content (an image, an executable, a legacy binary Office file).</summary>
    Unsupported,

    /// <summary>The bytes are not a well-formed file of the type they claim (truncated, broken records).</summary>
    Corrupt,

    /// <summary>The file is encrypted or protected against text extraction (an encrypted PDF, a distribution-protected HWP).</summary>
    Protected,

    /// <summary>The file is over a limit (<see cref="DocumentParseLimits"/>): size, pages, entries, inflated bytes.</summary>
    TooLarge,

    /// <summary>The file holds no text to index.</summary>
    Empty,

    /// <summary>The file's name says one type and its content another.</summary>
    WrongType,
}

/// <summary>
/// A parser's refusal of one file, with a message a person can act on ("the PDF is encrypted; remove the password").
/// Parsers throw it for every failure they recognise; the host turns anything else a parser throws into
/// <see cref="DocumentParseFailure.Corrupt"/> with the exception's message.
/// </summary>
public sealed class DocumentParseException(DocumentParseFailure failure, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public DocumentParseFailure Failure { get; } = failure;
}
