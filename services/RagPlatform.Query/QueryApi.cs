using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Security;

namespace RagPlatform.Query;

public static class QueryApi
{
    public static IHostApplicationBuilder AddQuery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SearchService>();
        builder.Services.AddSingleton<ContextService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/collections").WithTags("Query").RequireScope(RagScopes.Query);
        group.MapPost("/{name}/search", async (string name, SearchRequest? request, SearchService search, CancellationToken ct) =>
            Results.Ok(await search.SearchAsync(name, request, ct)));
        group.MapPost("/{name}/context", async (string name, ContextRequest? request, ContextService context, CancellationToken ct) =>
            Results.Ok(await context.BuildAsync(name, request, ct)));
        return app;
    }
}
