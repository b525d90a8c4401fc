using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Ingestion.Files;

/// <summary>One file of an upload: its name as sent, its bytes, or why it was not read (over the size limit).</summary>
public sealed record UploadedFile(string Name, ReadOnlyMemory<byte> Content, long Bytes, string? Problem = null);

/// <summary>The pure steps of file ingestion: ids from names, source hashes, normalised structure, document metadata.</summary>
public static class FileIngestion
{
    /// <summary>Bumped when what a file turns into changes for reasons outside the parser (chunking of structure, metadata).</summary>
    public const string Scheme = "file-v1";

    /// <summary>
    /// The document id of an uploaded file: its name with '/' separators and no leading "./" or "/". Clients send
    /// paths relative to the folder they ingest (the CLI does), so ids say where a file lives.
    /// </summary>
    public static string DocumentId(string name)
    {
        var id = name.Replace('\\', '/').Trim();
        while (id.StartsWith("./", StringComparison.Ordinal))
        {
            id = id[2..];
        }

        return id.TrimStart('/');
    }

    /// <summary>
    /// What decides whether a file must be read again: its bytes, the parser build that reads them, the chunking, and
    /// the tags and metadata it is posted with. Equal hash: the collection already holds exactly what parsing would give.
    /// </summary>
    public static string SourceHash(ReadOnlySpan<byte> content, string parser, string chunking, string payloadHash)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(content, digest);
        return ContentHashing.Hex(Scheme, "\u001F", Convert.ToHexStringLower(digest), "\u001F", parser, "\u001F", chunking, "\u001F", payloadHash);
    }

    /// <summary>
    /// The document's metadata: what the request gave, plus what the file says about itself under keys the request did
    /// not use (<c>contentType</c>, <c>pages</c>, <c>author</c>, <c>created</c>, <c>modified</c>), so they can be filtered on.
    /// </summary>
    public static IReadOnlyDictionary<string, JsonElement> Metadata(
        IReadOnlyDictionary<string, JsonElement> given, string contentType, ParsedDocument document)
    {
        var metadata = new Dictionary<string, JsonElement>(given, StringComparer.Ordinal);
        void Add(string key, object? value)
        {
            if (value is not null && !metadata.ContainsKey(key) && metadata.Count < PayloadValidation.MaxMetadataEntries)
            {
                metadata[key] = JsonSerializer.SerializeToElement(value);
            }
        }

        Add("contentType", contentType);
        Add("pages", document.Pages);
        Add("author", Truncate(TextNormalizer.Normalize(document.Properties.Author ?? string.Empty)));
        Add("created", document.Properties.Created?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        Add("modified", document.Properties.Modified?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        return metadata;
    }

    private static string? Truncate(string value) =>
        value.Length == 0 ? null : value.Length > 256 ? value[..256] : value;

    /// <summary>Every text normalised as documents' texts are (NFC, no control or zero-width characters); blanks dropped.</summary>
    public static ParsedDocument Normalize(ParsedDocument document)
    {
        var sections = new List<DocumentSection>(document.Sections.Count);
        foreach (var section in document.Sections)
        {
            var blocks = new List<DocumentBlock>(section.Blocks.Count);
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case ParagraphBlock paragraph when TextNormalizer.Normalize(paragraph.Text) is { Length: > 0 } text:
                        blocks.Add(paragraph with { Text = text });
                        break;
                    case TableBlock table:
                        var rows = table.Rows.Select(r => r with { Cells = r.Cells.Select(TextNormalizer.Normalize).ToList() })
                            .Where(r => r.Cells.Any(c => c.Length > 0)).ToList();
                        if (rows.Count > 0)
                        {
                            blocks.Add(table with
                            {
                                Rows = rows,
                                HeaderRows = Math.Min(table.HeaderRows, rows.Count),
                                Caption = table.Caption is null ? null : TextNormalizer.Normalize(table.Caption),
                            });
                        }

                        break;
                }
            }

            if (blocks.Count > 0)
            {
                sections.Add(new DocumentSection(
                    section.HeadingPath.Select(TextNormalizer.Normalize).Where(h => h.Length > 0).ToList(), blocks));
            }
        }

        return document with { Sections = sections, Title = document.Title is null ? null : TextNormalizer.Normalize(document.Title) };
    }

    /// <summary>The title: the file's own (its metadata, or its first heading), else its name without the extension.</summary>
    public static string Title(ParsedDocument document, string fileName)
    {
        var title = string.IsNullOrWhiteSpace(document.Title) ? Path.GetFileNameWithoutExtension(fileName.Replace('\\', '/').Split('/')[^1]) : document.Title;
        return title.Length > DocumentValidator.MaxTitleLength ? title[..DocumentValidator.MaxTitleLength] : title;
    }
}
