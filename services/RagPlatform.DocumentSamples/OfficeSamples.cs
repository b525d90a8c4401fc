using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;

namespace RagPlatform.DocumentSamples;

/// <summary>Writes <see cref="SampleDocument"/>s as DOCX, XLSX and PPTX with the Open XML SDK.</summary>
public static class OfficeSamples
{
    /// <summary>Headings in "heading N" styles (outline levels), tables with a repeat-as-header first row.</summary>
    public static byte[] Docx(SampleDocument document)
    {
        using var output = new MemoryStream();
        using (var package = WordprocessingDocument.Create(output, WordprocessingDocumentType.Document))
        {
            package.PackageProperties.Title = document.Title;
            package.PackageProperties.Creator = document.Author;
            package.PackageProperties.Created = new DateTime(2024, 3, 1, 9, 0, 0, DateTimeKind.Utc);
            var main = package.AddMainDocumentPart();
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new Styles(
                HeadingStyle("Heading1", "heading 1", 0),
                HeadingStyle("Heading2", "heading 2", 1),
                HeadingStyle("Heading3", "heading 3", 2),
                new Style(new StyleName { Val = "Title" }) { Type = StyleValues.Paragraph, StyleId = "Title" });
            var body = new Body();
            body.Append(Paragraph(document.Title, "Title"));
            foreach (var block in document.Blocks)
            {
                switch (block)
                {
                    case SampleHeading heading:
                        body.Append(Paragraph(heading.Text, "Heading" + heading.Level));
                        break;
                    case SampleParagraph paragraph:
                        body.Append(Paragraph(paragraph.Text, null));
                        break;
                    case SampleTable table:
                        var grid = new Table(new TableProperties(new TableStyle { Val = "TableGrid" }));
                        var first = true;
                        foreach (var row in table.Rows)
                        {
                            var tableRow = new TableRow();
                            if (first)
                            {
                                tableRow.Append(new TableRowProperties(new TableHeader()));
                                first = false;
                            }

                            foreach (var cell in row)
                            {
                                tableRow.Append(new TableCell(Paragraph(cell, null)));
                            }

                            grid.Append(tableRow);
                        }

                        body.Append(grid);
                        break;
                }
            }

            main.Document = new Document(body);
        }

        return output.ToArray();
    }

    private static Style HeadingStyle(string id, string name, int outline) =>
        new(new StyleName { Val = name }, new StyleParagraphProperties(new OutlineLevel { Val = outline })) { Type = StyleValues.Paragraph, StyleId = id };

    private static Paragraph Paragraph(string text, string? style)
    {
        var paragraph = new Paragraph(new Run(new Text(text) { Space = SpaceProcessingModeValues.Preserve }));
        if (style is not null)
        {
            paragraph.PrependChild(new ParagraphProperties(new ParagraphStyleId { Val = style }));
        }

        return paragraph;
    }

    /// <summary>One sheet per table ("표1", "표2", …), inline strings.</summary>
    public static byte[] Xlsx(SampleDocument document)
    {
        using var output = new MemoryStream();
        using (var package = SpreadsheetDocument.Create(output, SpreadsheetDocumentType.Workbook))
        {
            package.PackageProperties.Title = document.Title;
            package.PackageProperties.Creator = document.Author;
            var workbook = package.AddWorkbookPart();
            workbook.Workbook = new S.Workbook(new S.Sheets());
            var sheets = workbook.Workbook.Sheets!;
            uint number = 0;
            foreach (var table in document.Tables)
            {
                number++;
                var part = workbook.AddNewPart<WorksheetPart>();
                var data = new S.SheetData();
                uint rowIndex = 0;
                foreach (var row in table.Rows)
                {
                    rowIndex++;
                    var sheetRow = new S.Row { RowIndex = rowIndex };
                    for (var c = 0; c < row.Count; c++)
                    {
                        sheetRow.Append(new S.Cell(new S.InlineString(new S.Text(row[c])))
                        {
                            CellReference = ((char)('A' + c)).ToString() + rowIndex,
                            DataType = S.CellValues.InlineString,
                        });
                    }

                    data.Append(sheetRow);
                }

                part.Worksheet = new S.Worksheet(data);
                sheets.Append(new S.Sheet { Id = workbook.GetIdOfPart(part), SheetId = number, Name = "표" + number });
            }
        }

        return output.ToArray();
    }

    /// <summary>A slide per level-1 heading: its title, the paragraphs under it as a text box, its tables as slide tables.</summary>
    public static byte[] Pptx(SampleDocument document)
    {
        using var output = new MemoryStream();
        using (var package = PresentationDocument.Create(output, PresentationDocumentType.Presentation))
        {
            package.PackageProperties.Title = document.Title;
            package.PackageProperties.Creator = document.Author;
            var presentation = package.AddPresentationPart();
            presentation.Presentation = new P.Presentation(new P.SlideIdList(), new P.SlideSize { Cx = 9144000, Cy = 6858000 });
            uint id = 256;
            P.ShapeTree? tree = null;
            uint shapeId = 2;
            foreach (var block in document.Blocks)
            {
                if (block is SampleHeading { Level: 1 } heading || tree is null)
                {
                    var part = presentation.AddNewPart<SlidePart>();
                    tree = new P.ShapeTree(
                        new P.NonVisualGroupShapeProperties(
                            new P.NonVisualDrawingProperties { Id = 1, Name = "" }, new P.NonVisualGroupShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
                        new P.GroupShapeProperties());
                    part.Slide = new P.Slide(new P.CommonSlideData(tree));
                    presentation.Presentation.SlideIdList!.Append(new P.SlideId { Id = id++, RelationshipId = presentation.GetIdOfPart(part) });
                    shapeId = 2;
                    var title = block is SampleHeading h ? h.Text : document.Title;
                    tree.Append(TextShape(shapeId++, title, P.PlaceholderValues.Title));
                    if (block is SampleHeading)
                    {
                        continue;
                    }
                }

                switch (block)
                {
                    case SampleHeading sub:
                        tree.Append(TextShape(shapeId++, sub.Text, null));
                        break;
                    case SampleParagraph paragraph:
                        tree.Append(TextShape(shapeId++, paragraph.Text, null));
                        break;
                    case SampleTable table:
                        var grid = new A.Table(new A.TableGrid(table.Rows[0].Select(_ => new A.GridColumn { Width = 2000000 })));
                        foreach (var row in table.Rows)
                        {
                            grid.Append(new A.TableRow(row.Select(c => new A.TableCell(
                                new A.TextBody(new A.BodyProperties(), new A.Paragraph(new A.Run(new A.Text(c)))), new A.TableCellProperties()))) { Height = 370840 });
                        }

                        tree.Append(new P.GraphicFrame(
                            new P.NonVisualGraphicFrameProperties(
                                new P.NonVisualDrawingProperties { Id = shapeId++, Name = "Table" }, new P.NonVisualGraphicFrameDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
                            new P.Transform(new A.Offset { X = 0, Y = 0 }, new A.Extents { Cx = 8000000, Cy = 3000000 }),
                            new A.Graphic(new A.GraphicData(grid) { Uri = "http://schemas.openxmlformats.org/drawingml/2006/table" })));
                        break;
                }
            }
        }

        return output.ToArray();
    }

    private static P.Shape TextShape(uint id, string text, P.PlaceholderValues? placeholder)
    {
        var application = new P.ApplicationNonVisualDrawingProperties();
        if (placeholder is { } type)
        {
            application.Append(new P.PlaceholderShape { Type = type });
        }

        return new P.Shape(
            new P.NonVisualShapeProperties(new P.NonVisualDrawingProperties { Id = id, Name = "Text " + id }, new P.NonVisualShapeDrawingProperties(), application),
            new P.ShapeProperties(),
            new P.TextBody(new A.BodyProperties(), new A.ListStyle(), new A.Paragraph(new A.Run(new A.Text(text)))));
    }
}
