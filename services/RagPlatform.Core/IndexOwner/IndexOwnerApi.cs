using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Lexical;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Core.IndexOwner;

/// <summary>
/// The index owner's side: this process's vector backends and lexical index, served to the other processes of
/// the topology. Mapped only when <c>RagPlatform:IndexOwner:Serve</c> is true; meant for a private network
/// (the dev topology binds loopback). Errors travel as <see cref="IndexOwnerError"/> so the caller rethrows
/// the same exception a local index would have thrown.
/// </summary>
public static class IndexOwnerApi
{
    public static IEndpointRouteBuilder MapIndexOwnerApi(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<RagPlatformOptions>>().Value.IndexOwner.Serve)
        {
            return app;
        }

        // Service-to-service traffic: one worker's ingestion makes thousands of calls, which no per-client request
        // limit should throttle (the admin key it needs when keys are on is what guards it).
        var index = app.MapGroup("/internal/index").AddEndpointFilter(TranslateErrors).ExcludeFromDescription().DisableRateLimiting();

        var vectors = index.MapGroup("/vectors/{backend}/{collection}");
        vectors.MapPut("", async (string backend, string collection, VectorCollectionSpec spec, PluginHost plugins, CancellationToken ct) =>
        {
            await (await plugins.GetVectorBackendAsync(backend, ct)).EnsureCollectionAsync(spec with { Name = collection }, ct);
            return Results.NoContent();
        });
        vectors.MapGet("", async (string backend, string collection, PluginHost plugins, CancellationToken ct) =>
            await (await plugins.GetVectorBackendAsync(backend, ct)).GetCollectionAsync(collection, ct) is { } spec
                ? Results.Json(spec, IndexOwnerClient.Json)
                : Results.Json(new IndexOwnerError(IndexOwnerError.CollectionNotFound, $"Vector collection '{collection}' does not exist.", collection),
                    IndexOwnerClient.Json, statusCode: StatusCodes.Status404NotFound));
        vectors.MapDelete("", async (string backend, string collection, PluginHost plugins, CancellationToken ct) =>
        {
            await (await plugins.GetVectorBackendAsync(backend, ct)).DeleteCollectionAsync(collection, ct);
            return Results.NoContent();
        });
        vectors.MapPost("/upsert", async (string backend, string collection, List<OwnerPoint> points, PluginHost plugins, CancellationToken ct) =>
        {
            await (await plugins.GetVectorBackendAsync(backend, ct)).UpsertAsync(collection, points.ConvertAll(p => p.ToPoint()), ct);
            return Results.NoContent();
        });
        vectors.MapPost("/delete", async (string backend, string collection, List<string> ids, PluginHost plugins, CancellationToken ct) =>
            Results.Json(new CountResponse(await (await plugins.GetVectorBackendAsync(backend, ct)).DeleteAsync(collection, ids, ct)), IndexOwnerClient.Json));
        vectors.MapPost("/delete-document", async (string backend, string collection, DocumentReference document, PluginHost plugins, CancellationToken ct) =>
            Results.Json(new CountResponse(await (await plugins.GetVectorBackendAsync(backend, ct)).DeleteByDocumentAsync(collection, document.DocumentId, ct)), IndexOwnerClient.Json));
        vectors.MapPost("/retrieve", async (string backend, string collection, List<string> ids, PluginHost plugins, CancellationToken ct) =>
            Results.Json(OwnerPoint.From(await (await plugins.GetVectorBackendAsync(backend, ct)).RetrieveAsync(collection, ids, ct)), IndexOwnerClient.Json));
        vectors.MapPost("/search", async (string backend, string collection, VectorQuery query, PluginHost plugins, CancellationToken ct) =>
            Results.Json(await (await plugins.GetVectorBackendAsync(backend, ct)).SearchAsync(collection, query, ct), IndexOwnerClient.Json));
        vectors.MapPost("/count", async (string backend, string collection, CountRequest request, PluginHost plugins, CancellationToken ct) =>
            Results.Json(new CountResponse(await (await plugins.GetVectorBackendAsync(backend, ct)).CountAsync(collection, request.Filter, ct)), IndexOwnerClient.Json));
        vectors.MapPost("/export", async (string backend, string collection, PluginHost plugins, CancellationToken ct) =>
        {
            var points = new List<OwnerPoint>();
            await foreach (var point in (await plugins.GetVectorBackendAsync(backend, ct)).ExportAsync(collection, ct))
            {
                points.Add(OwnerPoint.From(point));
            }

            return Results.Json(points, IndexOwnerClient.Json);
        });

        var lexical = index.MapGroup("/lexical/{collection}");
        lexical.MapPost("/upsert", async (string collection, List<LexicalChunk> chunks, ILexicalIndex lexicalIndex, CancellationToken ct) =>
        {
            await lexicalIndex.UpsertAsync(collection, chunks, ct);
            return Results.NoContent();
        });
        lexical.MapPost("/delete", async (string collection, List<string> ids, ILexicalIndex lexicalIndex, CancellationToken ct) =>
        {
            await lexicalIndex.DeleteAsync(collection, ids, ct);
            return Results.NoContent();
        });
        lexical.MapPost("/delete-document", async (string collection, DocumentReference document, ILexicalIndex lexicalIndex, CancellationToken ct) =>
        {
            await lexicalIndex.DeleteByDocumentAsync(collection, document.DocumentId, ct);
            return Results.NoContent();
        });
        lexical.MapDelete("", async (string collection, ILexicalIndex lexicalIndex, CancellationToken ct) =>
        {
            await lexicalIndex.DeleteCollectionAsync(collection, ct);
            return Results.NoContent();
        });
        lexical.MapPost("/search", async (string collection, LexicalSearchRequest request, ILexicalIndex lexicalIndex, CancellationToken ct) =>
            Results.Json(await lexicalIndex.SearchAsync(collection, request.Query, request.TopK, request.Filter, ct), IndexOwnerClient.Json));
        return app;
    }

    private static async ValueTask<object?> TranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (VectorCollectionMismatchException ex)
        {
            return Error(StatusCodes.Status409Conflict, new IndexOwnerError(IndexOwnerError.Mismatch, ex.Message));
        }
        catch (VectorCollectionNotFoundException ex)
        {
            return Error(StatusCodes.Status404NotFound, new IndexOwnerError(IndexOwnerError.CollectionNotFound, ex.Message, ex.Collection));
        }
        catch (InvalidVectorException ex)
        {
            return Error(StatusCodes.Status422UnprocessableEntity, new IndexOwnerError(IndexOwnerError.InvalidVector, ex.Message));
        }
        catch (ArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, new IndexOwnerError(IndexOwnerError.Argument, ex.Message));
        }
    }

    private static IResult Error(int status, IndexOwnerError error) => Results.Json(error, IndexOwnerClient.Json, statusCode: status);
}
