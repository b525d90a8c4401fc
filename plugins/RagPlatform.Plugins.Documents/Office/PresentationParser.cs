using System.Globalization;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Presentation;
using RagPlatform.Sdk.Documents;
using A = DocumentFormat.OpenXml.Drawing;

namespace RagPlatform.Plugins.Documents.Office;

/// <summary>
/// PPTX through the Open XML SDK: every slide, in the presentation's order, is a section headed by its title (or
/// "Slide N") and numbered as a page; its text boxes in shape-tree order, its tables, then its speaker notes.
/// </summary>
internal sealed class PresentationParser : IDocumentParser
{
    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("presentation", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        using var package = OpenXmlPackages.Open(source, limits, (stream, settings) => PresentationDocument.Open(stream, false, settings));
        var presentation = package.PresentationPart
            ?? throw new DocumentParseException(DocumentParseFailure.Corrupt, "The presentation has no presentation part.");
        var slideIds = OpenXmlPackages.Load(() => presentation.Presentation?.SlideIdList?.Elements<SlideId>().ToList()) ?? [];
        if (slideIds.Count > limits.MaxPages)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The presentation has {slideIds.Count:N0} slides; the limit is {limits.MaxPages:N0}."));
        }

        var builder = new DocumentBuilder(limits)
        {
            Properties = OpenXmlPackages.Properties(package),
            Title = OpenXmlPackages.Blank(package.PackageProperties.Title),
            Pages = slideIds.Count,
        };
        var number = 0;
        foreach (var slideId in slideIds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            number++;
            if (slideId.RelationshipId?.Value is not { } relationship || presentation.GetPartById(relationship) is not SlidePart part)
            {
                continue;
            }

            var slide = OpenXmlPackages.Load(() => part.Slide);
            var shapes = slide?.CommonSlideData?.ShapeTree?.Descendants().ToList() ?? [];
            var title = shapes.OfType<Shape>().FirstOrDefault(IsTitle) is { } titleShape ? ShapeText(titleShape) : null;
            builder.Heading(1, string.IsNullOrWhiteSpace(title) ? string.Create(CultureInfo.InvariantCulture, $"Slide {number}") : title);
            foreach (var element in shapes)
            {
                switch (element)
                {
                    case Shape shape when !IsTitle(shape) && shape.TextBody is { } body:
                        foreach (var paragraph in body.Elements<A.Paragraph>())
                        {
                            builder.Paragraph(ParagraphText(paragraph), number);
                        }

                        break;
                    case A.Table table:
                        builder.Table(table.Elements<A.TableRow>()
                            .Select(row => new TableRow(row.Elements<A.TableCell>().Select(c => string.Join(" ", c.Descendants<A.Paragraph>().Select(ParagraphText))).ToList(), number))
                            .ToList(), headerRows: 1);
                        break;
                }
            }

            var notes = OpenXmlPackages.Load(() => part.NotesSlidePart?.NotesSlide);
            foreach (var shape in notes?.CommonSlideData?.ShapeTree?.Elements<Shape>() ?? [])
            {
                // The notes page repeats the slide image and its number; only the body placeholder is the speaker's notes.
                if (shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value == PlaceholderValues.Body
                    && shape.TextBody is { } body)
                {
                    foreach (var paragraph in body.Elements<A.Paragraph>())
                    {
                        builder.Paragraph(ParagraphText(paragraph), number);
                    }
                }
            }
        }

        return builder.Build();
    }

    private static bool IsTitle(Shape shape) =>
        shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value is { } type
        && (type == PlaceholderValues.Title || type == PlaceholderValues.CenteredTitle);

    private static string ShapeText(Shape shape) =>
        string.Join(" ", shape.TextBody?.Elements<A.Paragraph>().Select(ParagraphText) ?? []);

    private static string ParagraphText(A.Paragraph paragraph) =>
        string.Concat(paragraph.Descendants().Select(e => e switch
        {
            A.Text text => text.Text,
            A.Break => " ",
            _ => string.Empty,
        }));
}
