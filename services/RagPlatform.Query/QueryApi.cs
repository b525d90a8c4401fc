using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Security;

namespace RagPlatform.Query;

public static class QueryApi
{
    public static IHostApplicationBuilder AddQuery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<VectorSearchFallback>();
        builder.Services.AddSingleton<SearchService>();
        builder.Services.AddSingleton<ContextService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/collections").WithTags("Query").RequireScope(RagScopes.Query).ProducesKeyProblems();
        group.MapPost("/{name}/search", SearchAsync)
            .WithName("SearchCollection")
            .WithSummary("Search a collection")
            .WithDescription("Dense, lexical or hybrid (the default) search; results carry scores, tags, metadata and, for parsed files, section and pages.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{name}/context", BuildContextAsync)
            .WithName("BuildContext")
            .WithSummary("Pack search results into a context for a prompt")
            .WithDescription("Runs a search and packs the best documents into one text within a character and document budget, with [n] source markers.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<SearchResponse>> SearchAsync(string name, SearchRequest? request, SearchService search, CancellationToken ct) =>
        TypedResults.Ok(await search.SearchAsync(name, request, ct));

    public static async Task<Ok<ContextResponse>> BuildContextAsync(string name, ContextRequest? request, ContextService context, CancellationToken ct) =>
        TypedResults.Ok(await context.BuildAsync(name, request, ct));
}
