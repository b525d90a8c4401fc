using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace RagPlatform.Core.Hosting;

/// <summary>
/// The OpenAPI document of a service host (<c>GET /openapi/v1.json</c>) and, in Development, the Scalar API reference
/// at <c>/docs</c>. The same document is generated at build time into <c>docs/openapi/</c> and committed; a test fails
/// when the committed copy and the running host disagree.
/// </summary>
public static class OpenApiExtensions
{
    public const string DocumentName = "v1";

    public static IHostApplicationBuilder AddRagPlatformOpenApi(this IHostApplicationBuilder builder)
    {
        if (IsBuildTimeGeneration)
        {
            // The build starts the app (never serving) only to read its document; mapping the endpoints opens the metadata
            // store, which must not leave a data/ folder in the project directory.
            builder.Configuration["RagPlatform:DataDirectory"] = Path.Combine(Path.GetTempPath(), "ragplatform-openapi-build");
        }

        var title = "RagPlatform " + Describe(builder.Environment.ApplicationName);
        builder.Services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = title,
                    Version = DocumentName,
                    Description = "Collections, documents, files, jobs, search and context (docs/http-api.md). Send an API key as "
                        + "'Authorization: Bearer <key>' or 'api-key: <key>' when RagPlatform:Security:Keys is configured; errors are "
                        + "RFC 7807 problem details.",
                };
                // The address a request happened to use is no part of the contract (and would differ between the build-time
                // document and a running host): clients are pointed at their server, not at this list.
                document.Servers = [];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An API key from `rag keys create` (also accepted in an 'api-key' header).",
                };
                // Every operation takes the key (so Scalar and generated clients send it); the empty alternative says a
                // host without RagPlatform:Security:Keys serves loopback callers without one.
                document.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] },
                    new OpenApiSecurityRequirement(),
                ];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>Maps the document (no key needed: it describes the contract, not data) and, in Development, <c>/docs</c>.</summary>
    public static IEndpointRouteBuilder MapRagPlatformOpenApi(this IEndpointRouteBuilder app, IHostEnvironment environment)
    {
        app.MapOpenApi().AllowAnonymous().ExcludeFromDescription();
        if (environment.IsDevelopment())
        {
            app.MapScalarApiReference("/docs", options => options.WithTitle("RagPlatform API"))
                .AllowAnonymous().ExcludeFromDescription();
        }

        return app;
    }

    /// <summary>True inside Microsoft.Extensions.ApiDescription.Server's build step (its GetDocument.Insider tool hosts the app).</summary>
    public static bool IsBuildTimeGeneration =>
        string.Equals(System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name, "GetDocument.Insider", StringComparison.Ordinal);

    /// <summary>4xx answers every keyed endpoint may give: no or a bad key (401), a missing scope or collection (403), throttled (429).</summary>
    public static TBuilder ProducesKeyProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    private static string Describe(string applicationName) => applicationName switch
    {
        "RagPlatform.Standalone" => "standalone host",
        "RagPlatform.QueryApi" => "query API",
        "RagPlatform.IngestionService" => "ingestion service",
        "RagPlatform.EmbeddingWorker" => "embedding worker",
        _ => applicationName,
    };
}
