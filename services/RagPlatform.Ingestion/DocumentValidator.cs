using System.Globalization;
using System.Text.Json;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using static RagPlatform.Core.Validation.PayloadValidation;

namespace RagPlatform.Ingestion;

/// <summary>A document that passed validation, normalised.</summary>
public sealed record ValidDocument(
    string Id,
    string? Title,
    string Text,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata);

/// <summary>
/// Checks a whole batch before anything is written, and names every bad field by its JSON path
/// (<c>$[3].text</c>), so a batch is either accepted whole or refused whole.
/// </summary>
public static class DocumentValidator
{
    public const int MaxIdLength = 512;
    public const int MaxTitleLength = 2_000;

    public static IReadOnlyList<ValidDocument> Validate(IReadOnlyList<DocumentInput?>? documents, IngestionOptions options)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (documents is null || documents.Count == 0)
        {
            throw new RequestValidationException("$", "The body must be a JSON array of one or more documents: [{\"id\": \"...\", \"text\": \"...\"}].");
        }

        if (documents.Count > options.MaxDocumentsPerRequest)
        {
            throw new RequestValidationException("$",
                $"A request may carry at most {options.MaxDocumentsPerRequest} documents; this one has {documents.Count}. Split the batch.");
        }

        var valid = new List<ValidDocument>(documents.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < documents.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"$[{i}]");
            var document = documents[i];
            if (document is null)
            {
                Add(errors, path, "A document must be an object, not null.");
                continue;
            }

            var id = document.Id;
            if (string.IsNullOrWhiteSpace(id))
            {
                Add(errors, path + ".id", "id is required.");
            }
            else if (id.Length > MaxIdLength || PayloadValidation.HasControl(id))
            {
                Add(errors, path + ".id", $"id must be at most {MaxIdLength} characters without control characters.");
            }
            else if (seen.TryGetValue(id, out var first))
            {
                Add(errors, path + ".id", string.Create(CultureInfo.InvariantCulture, $"id '{id}' appears twice in the batch (also at $[{first}])."));
            }
            else
            {
                seen.Add(id, i);
            }

            var text = document.Text is null ? null : TextNormalizer.Normalize(document.Text);
            if (string.IsNullOrEmpty(text))
            {
                Add(errors, path + ".text", document.Text is null ? "text is required." : "text is empty (after removing whitespace and control characters).");
            }
            else if (document.Text!.Length > options.MaxDocumentChars)
            {
                Add(errors, path + ".text",
                    $"text has {document.Text.Length} characters; the limit is {options.MaxDocumentChars} (RagPlatform:Ingestion:MaxDocumentChars).");
            }

            var title = document.Title is null ? null : TextNormalizer.Normalize(document.Title);
            if (title is { Length: > MaxTitleLength })
            {
                Add(errors, path + ".title", $"title must be at most {MaxTitleLength} characters.");
            }

            var tags = PayloadValidation.ValidateTags(document.Tags, path + ".tags", errors);
            var metadata = PayloadValidation.ValidateMetadata(document.Metadata, path + ".metadata", errors);
            if (errors.Count == 0)
            {
                valid.Add(new ValidDocument(id!, string.IsNullOrEmpty(title) ? null : title, text!, tags, metadata));
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        return valid;
    }
}
