using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Ingestion.Files;

/// <summary>What became of parsing one file: its sniffed type and parser, and the document or why there is none.</summary>
public sealed record ParseOutcome(
    string FileName,
    long Bytes,
    string? ContentType,
    string? Parser,
    ParsedDocument? Document,
    DocumentParseFailure? Failure,
    string? Error,
    TimeSpan Elapsed)
{
    public bool Succeeded => Document is not null;

    /// <summary>The parser threw something other than its documented refusal: a parser bug, counted apart in measurements.</summary>
    public bool Unexpected { get; init; }

    /// <summary>The failure as the HTTP contract names it (<c>too_large</c>, <c>wrong_type</c>, …).</summary>
    public string? FailureCode => Failure is { } failure ? Code(failure) : null;

    public static string Code(DocumentParseFailure failure) => failure switch
    {
        DocumentParseFailure.TooLarge => "too_large",
        DocumentParseFailure.WrongType => "wrong_type",
        _ => failure.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Turns uploaded bytes into a <see cref="ParsedDocument"/>: sniffs the content type (<see cref="ContentSniffer"/>),
/// picks the parser plugin that reads it, and parses within the configured limits and time. Whatever goes wrong stays
/// with the file: a parser's refusal, its exception or its timeout becomes a failure with a reason, never an error of
/// the request or the host.
/// </summary>
public sealed class DocumentParsing(PluginHost plugins, IOptions<RagPlatformOptions> options, ILogger<DocumentParsing> logger)
{
    private readonly IngestionOptions _options = options.Value.Ingestion;

    public DocumentParseLimits Limits => new()
    {
        MaxDecompressedBytes = _options.Parsing.MaxDecompressedBytes,
        MaxArchiveEntries = _options.Parsing.MaxArchiveEntries,
        MaxCompressionRatio = _options.Parsing.MaxCompressionRatio,
        MaxPages = _options.Parsing.MaxPages,
        MaxTextChars = _options.MaxDocumentChars,
    };

    /// <summary>
    /// The parser that reads <paramref name="contentType"/> and its build ("pdf/1.0.0+abc123"), or null: part of a file's
    /// source hash, so a new parser build reads unchanged files again.
    /// </summary>
    public string? ParserIdentity(string contentType) =>
        plugins.Catalog.FindDocumentParser(contentType) is { } descriptor
            ? descriptor.Name + "/" + (descriptor.EntryPoint.Assembly
                .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
                ?? descriptor.EntryPoint.Assembly.GetName().Version?.ToString())
            : null;

    /// <summary>The sniffed content type, or the failure that stopped sniffing.</summary>
    public (string? ContentType, DocumentParseException? Failure) Sniff(string fileName, ReadOnlyMemory<byte> content)
    {
        try
        {
            return (ContentSniffer.Sniff(fileName, content, Limits), null);
        }
        catch (DocumentParseException ex)
        {
            return (null, ex);
        }
    }

    public async Task<ParseOutcome> ParseAsync(string fileName, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        ParseOutcome Fail(string? contentType, string? parser, DocumentParseFailure failure, string error) =>
            new(fileName, content.Length, contentType, parser, null, failure, error, Stopwatch.GetElapsedTime(started));

        if (content.Length > _options.MaxFileBytes)
        {
            return Fail(null, null, DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The file is {content.Length:N0} bytes; the limit is {_options.MaxFileBytes:N0} (RagPlatform:Ingestion:MaxFileBytes)."));
        }

        var (contentType, sniffFailure) = Sniff(fileName, content);
        if (sniffFailure is not null)
        {
            return Fail(null, null, sniffFailure.Failure, sniffFailure.Message);
        }

        if (await plugins.GetDocumentParserAsync(contentType!, cancellationToken) is not { } found)
        {
            return Fail(contentType, null, DocumentParseFailure.Unsupported, contentType switch
            {
                DocumentContentTypes.CompoundFile => "Legacy binary Office files (.doc, .xls, .ppt) are not supported; save the file as .docx, .xlsx or .pptx.",
                DocumentContentTypes.Unknown => "The content is not a document type the platform reads (PDF, DOCX, PPTX, XLSX, HTML, Markdown, text, HWPX, HWP).",
                _ => $"No parser plugin reads {DocumentContentTypes.Describe(contentType!)} ({contentType}).",
            });
        }

        var source = new DocumentSource(fileName, contentType!, content);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.Parsing.TimeoutSeconds));
        try
        {
            // Parsers are CPU-bound and some never yield: run on the pool, and stop waiting at the deadline.
            var parse = Task.Run(() => found.Parser.ParseAsync(source, Limits, timeout.Token), timeout.Token);
            var document = await parse.WaitAsync(timeout.Token);
            return new ParseOutcome(fileName, content.Length, contentType, found.Name, document, null, null, Stopwatch.GetElapsedTime(started));
        }
        catch (DocumentParseException ex)
        {
            return Fail(contentType, found.Name, ex.Failure, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail(contentType, found.Name, DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"Parsing took longer than {_options.Parsing.TimeoutSeconds} s (RagPlatform:Ingestion:Parsing:TimeoutSeconds); the file is too complex or malformed."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A parser bug or a library's reaction to hostile bytes: this file fails, the request goes on.
            logger.LogWarning(ex, "Parser {Parser} failed on {File}", found.Name, fileName);
            return Fail(contentType, found.Name, DocumentParseFailure.Corrupt, $"The {found.Name} parser could not read the file: {ex.GetType().Name}: {ex.Message}")
                with { Unexpected = true };
        }
    }
}
