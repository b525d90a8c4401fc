using Microsoft.Extensions.Configuration;

namespace RagPlatform.Sdk.Documents;

/// <summary>Turns the bytes of one file of the content types its plugin declares into a <see cref="ParsedDocument"/>.</summary>
public interface IDocumentParser
{
    /// <summary>
    /// Parses <paramref name="source"/> within <paramref name="limits"/>. Throws <see cref="DocumentParseException"/>
    /// for a file it cannot or will not read; must be safe to call concurrently (the host shares one instance).
    /// </summary>
    Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken);
}

/// <summary>
/// Registration entry point of a document parser plugin. The host picks the parser of a file by the content type
/// it sniffs from the bytes (<see cref="ContentSniffer"/>), never by the file's extension.
/// </summary>
public interface IDocumentParserPlugin
{
    /// <summary>The parser's name, as configuration and job results show it (e.g. "pdf", "hwp").</summary>
    string Name { get; }

    /// <summary>The content types it reads (<see cref="DocumentContentTypes"/>); two plugins may not claim the same one.</summary>
    IReadOnlyList<string> ContentTypes { get; }

    /// <summary>Creates the parser from its settings (<c>RagPlatform:Ingestion:Parsers:&lt;name&gt;</c>). Called once per process.</summary>
    ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The problems with the plugin's settings (<paramref name="settings"/> is its section), each naming its
    /// configuration key, without creating anything. The host calls it at start for every configured section of
    /// the plugin, so a bad value stops start-up. The default finds none.
    /// </summary>
    IReadOnlyList<string> ValidateSettings(IConfiguration settings) => [];
}
