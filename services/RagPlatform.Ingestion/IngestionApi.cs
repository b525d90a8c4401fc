using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Security;
using RagPlatform.Core.Storage;

namespace RagPlatform.Ingestion;

public static class IngestionApi
{
    /// <summary>Collections, documents and jobs: the ingestion service's HTTP contract.</summary>
    public static IEndpointRouteBuilder MapIngestionApi(this IEndpointRouteBuilder app)
    {
        var collections = app.MapGroup("/v1/collections").WithTags("Collections").RequireScope(RagScopes.Ingest);
        collections.MapPut("/{name}", async (string name, CollectionSettingsInput? settings, CollectionService service, CancellationToken ct) =>
        {
            var (_, created) = await service.PutAsync(name, settings ?? new CollectionSettingsInput(null, null, null), ct);
            var stats = await service.GetStatsAsync(name, ct);
            return created ? Results.Created($"/v1/collections/{name}", stats) : Results.Ok(stats);
        });
        // Reading a collection's stats is part of querying it too. A key limited to some collections lists only those.
        collections.MapGet("/", async (HttpContext context, CollectionService service, CancellationToken ct) =>
            Results.Ok(new CollectionList([.. (await service.ListAsync(ct)).Where(c => context.User.CanAccessCollection(c.Name))])))
            .RequireScope(RagScopes.Ingest, RagScopes.Query);
        collections.MapGet("/{name}", async (string name, CollectionService service, CancellationToken ct) =>
            Results.Ok(await service.GetStatsAsync(name, ct)))
            .RequireScope(RagScopes.Ingest, RagScopes.Query);
        collections.MapDelete("/{name}", async (string name, CollectionService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(name, ct);
            return Results.NoContent();
        });

        // Re-embedding a whole collection costs what ingesting it did: an admin decision.
        collections.MapPost("/{name}/reindex", async (string name, ReindexRequest? request, ReindexService service, CancellationToken ct) =>
        {
            var accepted = await service.StartAsync(name, request, ct);
            return Results.Accepted($"/v1/jobs/{accepted.JobId}", accepted);
        }).RequireScope(RagScopes.Admin);

        collections.MapPost("/{name}/documents", async (string name, HttpContext context, IngestionService service, CancellationToken ct) =>
        {
            // Read the body here rather than by parameter binding so the size limit applies before any byte is parsed.
            List<DocumentInput?>? documents;
            try
            {
                documents = await context.Request.ReadFromJsonAsync<List<DocumentInput?>>(ct);
            }
            catch (JsonException ex)
            {
                throw new BadHttpRequestException("Invalid JSON.", StatusCodes.Status400BadRequest, ex);
            }

            var accepted = await service.SubmitAsync(name, documents, ct);
            return Results.Accepted($"/v1/jobs/{accepted.JobId}", accepted);
        }).AddEndpointFilter(async (invocation, next) =>
        {
            var limit = invocation.HttpContext.RequestServices.GetRequiredService<IOptions<RagPlatformOptions>>().Value.Ingestion.MaxRequestBytes;
            if (invocation.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            if (invocation.HttpContext.Request.ContentLength > limit)
            {
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            }

            if (!invocation.HttpContext.Request.HasJsonContentType())
            {
                throw new RequestValidationException("Content-Type", "Send the documents as application/json.");
            }

            // Charged up front by the declared length (or the limit, for a chunked body of unknown size).
            invocation.HttpContext.RequestServices.GetRequiredService<IngestByteBudget>()
                .Charge(invocation.HttpContext, invocation.HttpContext.Request.ContentLength ?? limit);

            return await next(invocation);
        });

        // Files in (PDF, Office, HTML, Markdown, HWPX, HWP, text), parsed into structure: one job, a result per file.
        collections.MapPost("/{name}/files", Files.FilesApi.PostFilesAsync).DisableAntiforgery();
        collections.MapGet("/{name}/documents", Files.FilesApi.ListDocumentsAsync);

        // A catch-all id: documents made from files are named by their paths ("reports/2024/q1.pdf").
        collections.MapDelete("/{name}/documents/{**id}", async (string name, string id, IngestionService service, CancellationToken ct) =>
        {
            await service.DeleteDocumentAsync(name, id, ct);
            return Results.NoContent();
        });

        app.MapGet("/v1/jobs/{jobId}", async (string jobId, HttpContext context, IMetadataStore store, CancellationToken ct) =>
        {
            if (!Guid.TryParse(jobId, out var id))
            {
                throw new RequestValidationException("jobId", "A job id is a GUID, as returned by POST /v1/collections/{name}/documents.");
            }

            // Another collection's job is reported as absent: a key must not learn what others ingest.
            var job = await store.GetJobAsync(id, ct);
            return job is not null && context.User.CanAccessCollection(job.Collection)
                ? Results.Ok(job)
                : throw new ResourceNotFoundException($"Job '{jobId}' does not exist.");
        }).WithTags("Jobs").RequireScope(RagScopes.Ingest);
        return app;
    }
}
