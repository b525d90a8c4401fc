using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Security;
using RagPlatform.Core.Storage;
using RagPlatform.Ingestion.Files;

namespace RagPlatform.Ingestion;

/// <summary>
/// Collections, documents and jobs: the ingestion service's HTTP contract. Handlers are named methods with typed
/// results; a refused request throws, and the problem-details handler (<c>UseRagPlatformErrors</c>) answers it with
/// RFC 7807 details naming the field, which each endpoint declares with <c>ProducesProblem</c>.
/// </summary>
public static class IngestionApi
{
    public static IEndpointRouteBuilder MapIngestionApi(this IEndpointRouteBuilder app)
    {
        var collections = app.MapGroup("/v1/collections").WithTags("Collections").RequireScope(RagScopes.Ingest).ProducesKeyProblems();
        collections.MapPut("/{name}", PutCollectionAsync)
            .WithName("PutCollection")
            .WithSummary("Create a collection or change its settings")
            .WithDescription("Creates the collection with the given embedding provider, vector backend and chunking (201), or answers its stats when it exists (200). Changing the embedding of a collection that holds vectors is a reindex.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        // Reading a collection's stats is part of querying it too. A key limited to some collections lists only those.
        collections.MapGet("/", ListCollectionsAsync)
            .WithName("ListCollections")
            .WithSummary("List collections with their stats")
            .RequireScope(RagScopes.Ingest, RagScopes.Query);
        collections.MapGet("/{name}", GetCollectionAsync)
            .WithName("GetCollection")
            .WithSummary("Get a collection's settings and stats")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(RagScopes.Ingest, RagScopes.Query);
        collections.MapDelete("/{name}", DeleteCollectionAsync)
            .WithName("DeleteCollection")
            .WithSummary("Delete a collection, its documents and vectors")
            .ProducesProblem(StatusCodes.Status404NotFound);

        // Re-embedding a whole collection costs what ingesting it did: an admin decision.
        collections.MapPost("/{name}/reindex", ReindexAsync)
            .WithName("ReindexCollection")
            .WithSummary("Re-embed a collection into a new version (blue/green)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(RagScopes.Admin);

        collections.MapPost("/{name}/documents", PostDocumentsAsync)
            .WithName("PostDocuments")
            .WithSummary("Ingest documents (a JSON array)")
            .WithDescription("Queues the documents for chunking and embedding; the answer names the job to follow at /v1/jobs/{jobId}. A bad document fails the request with a 400 naming it ($[i].field); nothing of the batch is written then.")
            // Described for OpenAPI only: Accepts(...) metadata would make routing answer 415 itself, before the handler's
            // problem details naming Content-Type.
            .AddOpenApiOperationTransformer(DescribeDocumentsBody)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddEndpointFilter(LimitDocumentsRequest);

        // Files in (PDF, Office, HTML, Markdown, HWPX, HWP, text), parsed into structure: one job, a result per file.
        collections.MapPost("/{name}/files", FilesApi.PostFilesAsync)
            .WithName("PostFiles")
            .WithSummary("Ingest files (multipart/form-data), parsed by format")
            .WithDescription("One part named 'files' per file (its file name is the document id), optional 'tags' parts and a 'metadata' part (a JSON object). Each file gets its own result; a file that cannot be parsed fails alone.")
            .AddOpenApiOperationTransformer(DescribeFilesBody)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery();
        collections.MapGet("/{name}/documents", FilesApi.ListDocumentsAsync)
            .WithName("ListDocuments")
            .WithSummary("List a collection's document ids, a page at a time")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        // A catch-all id: documents made from files are named by their paths ("reports/2024/q1.pdf").
        collections.MapDelete("/{name}/documents/{**id}", DeleteDocumentAsync)
            .WithName("DeleteDocument")
            .WithSummary("Delete a document, its chunks and vectors")
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/v1/jobs/{jobId}", GetJobAsync)
            .WithName("GetJob")
            .WithSummary("Follow a job: state, progress counts and per-item errors")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesKeyProblems()
            .WithTags("Jobs")
            .RequireScope(RagScopes.Ingest);
        return app;
    }

    public static async Task<Results<Created<CollectionStats>, Ok<CollectionStats>>> PutCollectionAsync(
        string name, CollectionSettingsInput? settings, CollectionService service, CancellationToken ct)
    {
        var (_, created) = await service.PutAsync(name, settings ?? new CollectionSettingsInput(null, null, null), ct);
        var stats = await service.GetStatsAsync(name, ct);
        return created ? TypedResults.Created($"/v1/collections/{name}", stats) : TypedResults.Ok(stats);
    }

    public static async Task<Ok<CollectionList>> ListCollectionsAsync(HttpContext context, CollectionService service, CancellationToken ct) =>
        TypedResults.Ok(new CollectionList([.. (await service.ListAsync(ct)).Where(c => context.User.CanAccessCollection(c.Name))]));

    public static async Task<Ok<CollectionStats>> GetCollectionAsync(string name, CollectionService service, CancellationToken ct) =>
        TypedResults.Ok(await service.GetStatsAsync(name, ct));

    public static async Task<NoContent> DeleteCollectionAsync(string name, CollectionService service, CancellationToken ct)
    {
        await service.DeleteAsync(name, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Accepted<ReindexAccepted>> ReindexAsync(string name, ReindexRequest? request, ReindexService service, CancellationToken ct)
    {
        var accepted = await service.StartAsync(name, request, ct);
        return TypedResults.Accepted($"/v1/jobs/{accepted.JobId}", accepted);
    }

    public static async Task<Accepted<JobAccepted>> PostDocumentsAsync(string name, HttpContext context, IngestionService service, CancellationToken ct)
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
        return TypedResults.Accepted($"/v1/jobs/{accepted.JobId}", accepted);
    }

    public static async Task<NoContent> DeleteDocumentAsync(string name, string id, IngestionService service, CancellationToken ct)
    {
        await service.DeleteDocumentAsync(name, id, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<JobStatus>> GetJobAsync(string jobId, HttpContext context, IJobStore store, CancellationToken ct)
    {
        if (!Guid.TryParse(jobId, out var id))
        {
            throw new RequestValidationException("jobId", "A job id is a GUID, as returned by POST /v1/collections/{name}/documents.");
        }

        // Another collection's job is reported as absent: a key must not learn what others ingest.
        var job = await store.GetJobAsync(id, ct);
        return job is not null && context.User.CanAccessCollection(job.Collection)
            ? TypedResults.Ok(job)
            : throw new ResourceNotFoundException($"Job '{jobId}' does not exist.");
    }

    private static async Task DescribeDocumentsBody(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var schema = await context.GetOrCreateSchemaAsync(typeof(List<DocumentInput>), null, ct);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
        };
    }

    private static Task DescribeFilesBody(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "files" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["files"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "One part per file; its file name is the document id.",
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                },
                ["tags"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                ["metadata"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A JSON object of strings, numbers and booleans." },
            },
        };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["multipart/form-data"] = new() { Schema = form } },
        };
        return Task.CompletedTask;
    }

    private static async ValueTask<object?> LimitDocumentsRequest(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
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
    }
}
