using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Security;
using RagPlatform.Core.Storage;

namespace RagPlatform.Ingestion.Files;

/// <summary>
/// <c>POST /v1/collections/{name}/files</c> and <c>GET /v1/collections/{name}/documents</c>: the named handlers
/// <see cref="IngestionApi"/> maps. The multipart body is read part by part so the per-file limit applies while
/// bytes arrive: a file over it is drained and fails alone; the request's own limit answers 413.
/// </summary>
public static class FilesApi
{
    public const int DefaultListLimit = 1_000;
    public const int MaxListLimit = 10_000;
    private const int MaxFieldBytes = 64 * 1024;

    public static async Task<Accepted<FilesAccepted>> PostFilesAsync(string name, HttpContext context, IngestionService service, CancellationToken ct)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RagPlatformOptions>>().Value.Ingestion;
        var limit = options.MaxFilesRequestBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        if (context.Request.ContentLength > limit)
        {
            throw new BadHttpRequestException(string.Create(CultureInfo.InvariantCulture,
                $"Request body too large: the limit is {limit} bytes (RagPlatform:Ingestion:MaxFilesRequestBytes); send fewer files per request."),
                StatusCodes.Status413PayloadTooLarge);
        }

        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw new RequestValidationException("Content-Type",
                "Send the files as multipart/form-data: one part named 'files' per file, with its file name; optional 'tags' parts and a 'metadata' part (a JSON object).");
        }

        context.RequestServices.GetRequiredService<IngestByteBudget>().Charge(context, context.Request.ContentLength ?? limit);

        var files = new List<UploadedFile>();
        var tags = new List<string?>();
        Dictionary<string, JsonElement>? metadata = null;
        var reader = new MultipartReader(boundary, context.Request.Body) { HeadersLengthLimit = 16 * 1024 };
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    throw new RequestValidationException("Content-Disposition", "Every part needs a Content-Disposition header (form-data; name=\"files\"; filename=\"…\").");
                }

                if (disposition.IsFileDisposition())
                {
                    var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? string.Empty;
                    files.Add(await ReadFileAsync(fileName, section.Body, options.MaxFileBytes, ct));
                    continue;
                }

                var field = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                var value = await ReadFieldAsync(section.Body, field ?? "field", ct);
                switch (field)
                {
                    case "tags":
                        tags.AddRange(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                        break;
                    case "metadata":
                        metadata = ParseMetadata(value);
                        break;
                    default:
                        throw new RequestValidationException(field ?? "part",
                            "Unknown form field; the parts are 'files' (with a file name), 'tags' and 'metadata'.");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new BadHttpRequestException("Malformed multipart body: " + ex.Message, StatusCodes.Status400BadRequest, ex);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !ct.IsCancellationRequested)
        {
            // The body ended before the closing boundary (MultipartReader says so with an IOException); Kestrel's own
            // refusals (413 over the limit) are BadHttpRequestExceptions and keep their status.
            throw new BadHttpRequestException("Malformed multipart body: " + ex.Message, StatusCodes.Status400BadRequest, ex);
        }

        var accepted = await service.SubmitFilesAsync(name, files, tags, metadata, ct);
        return TypedResults.Accepted($"/v1/jobs/{accepted.JobId}", accepted);
    }

    public static async Task<Ok<DocumentList>> ListDocumentsAsync(
        string name, string? after, int? limit, CollectionService collections, IDocumentStore store, CancellationToken ct)
    {
        var take = limit ?? DefaultListLimit;
        if (take is < 1 or > MaxListLimit)
        {
            throw new RequestValidationException("limit", string.Create(CultureInfo.InvariantCulture, $"limit is between 1 and {MaxListLimit}."));
        }

        await collections.GetRequiredAsync(name, ct);
        var page = await store.ListDocumentsAsync(name, after, take + 1, ct);
        var documents = page.Take(take).ToList();
        return TypedResults.Ok(new DocumentList(documents, page.Count > take ? documents[^1].Id : null));
    }

    /// <summary>A file part, read up to the limit; past it the rest is drained (the request goes on) and the file fails alone.</summary>
    private static async Task<UploadedFile> ReadFileAsync(string fileName, Stream body, long maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            total += read;
            if (total <= maxBytes)
            {
                buffer.Write(chunk, 0, read);
            }
        }

        if (total > maxBytes)
        {
            return new UploadedFile(fileName, ReadOnlyMemory<byte>.Empty, total, string.Create(CultureInfo.InvariantCulture,
                $"The file is {total:N0} bytes; the limit is {maxBytes:N0} (RagPlatform:Ingestion:MaxFileBytes)."));
        }

        return new UploadedFile(fileName, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), total);
    }

    private static async Task<string> ReadFieldAsync(Stream body, string field, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
            {
                throw new RequestValidationException(field, string.Create(CultureInfo.InvariantCulture, $"A form field is at most {MaxFieldBytes} bytes."));
            }

            buffer.Write(chunk, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static Dictionary<string, JsonElement> ParseMetadata(string value)
    {
        try
        {
            using var json = JsonDocument.Parse(value);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new RequestValidationException("metadata", "metadata is a JSON object of strings, numbers and booleans.");
            }

            return json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new RequestValidationException("metadata", "metadata is not valid JSON: " + ex.Message);
        }
    }
}
