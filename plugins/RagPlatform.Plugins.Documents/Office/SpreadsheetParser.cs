using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Office;

/// <summary>
/// XLSX through the Open XML SDK's streaming reader: each worksheet, in workbook order, is a section named after the
/// sheet holding one table, its first non-empty row the header. Cells read as stored (shared and inline strings,
/// numbers as written, TRUE/FALSE); formulas contribute their cached values. Sheets have no pages.
/// </summary>
internal sealed class SpreadsheetParser : IDocumentParser
{
    /// <summary>Columns beyond this are ignored: a row wider than any table a person reads is padding or a bomb.</summary>
    private const int MaxColumns = 256;

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("workbook", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        using var package = OpenXmlPackages.Open(source, limits, (stream, settings) => SpreadsheetDocument.Open(stream, false, settings));
        var workbook = package.WorkbookPart
            ?? throw new DocumentParseException(DocumentParseFailure.Corrupt, "The workbook has no workbook part.");
        var shared = OpenXmlPackages.Load(() => workbook.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>().Select(i => i.InnerText).ToArray()) ?? [];
        var sheets = OpenXmlPackages.Load(() => workbook.Workbook?.Sheets?.Elements<Sheet>().ToList()) ?? [];
        if (sheets.Count > limits.MaxPages)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The workbook has {sheets.Count:N0} sheets; the limit is {limits.MaxPages:N0}."));
        }

        var builder = new DocumentBuilder(limits)
        {
            Properties = OpenXmlPackages.Properties(package),
            Title = OpenXmlPackages.Blank(package.PackageProperties.Title),
        };
        foreach (var sheet in sheets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (sheet.Id?.Value is not { } id || workbook.GetPartById(id) is not WorksheetPart part)
            {
                continue;
            }

            builder.Heading(1, sheet.Name?.Value ?? "Sheet");
            var rows = OpenXmlPackages.Load(() => ReadRows(part, shared, cancellationToken));
            builder.Table(rows, headerRows: 1);
        }

        return builder.Build();
    }

    private static List<TableRow> ReadRows(WorksheetPart part, string[] shared, CancellationToken cancellationToken)
    {
        var rows = new List<TableRow>();
        using var reader = OpenXmlReader.Create(part);
        while (reader.Read())
        {
            if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var row = (Row)reader.LoadCurrentElement()!;
            var cells = new List<string>();
            foreach (var cell in row.Elements<Cell>())
            {
                // Place the value in its column (empty cells are absent from the file).
                var column = ColumnIndex(cell.CellReference?.Value) ?? cells.Count;
                if (column >= MaxColumns)
                {
                    break;
                }

                while (cells.Count < column)
                {
                    cells.Add(string.Empty);
                }

                cells.Add(Value(cell, shared));
            }

            if (cells.Exists(c => c.Length > 0))
            {
                rows.Add(new TableRow(cells));
            }
        }

        return rows;
    }

    private static string Value(Cell cell, string[] shared)
    {
        var raw = cell.CellValue?.Text ?? string.Empty;
        if (cell.DataType?.Value is not { } type)
        {
            return raw;
        }

        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index >= 0 && index < shared.Length ? shared[index] : string.Empty;
        }

        if (type == CellValues.InlineString)
        {
            return cell.InlineString?.InnerText ?? raw;
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        return raw;
    }

    /// <summary>"C12" → 2.</summary>
    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var index = 0;
        var letters = 0;
        foreach (var c in reference)
        {
            if (c is >= 'A' and <= 'Z')
            {
                index = (index * 26) + (c - 'A' + 1);
                if (++letters > 3)
                {
                    return null;
                }
            }
            else
            {
                break;
            }
        }

        return letters == 0 ? null : index - 1;
    }
}
