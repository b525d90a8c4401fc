using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace RagPlatform.WebConsole;

/// <summary>What the host serving the console offers, so the console shows only what works against it.</summary>
public enum WebConsoleFeatures
{
    /// <summary>Search and context only (the query API of the distributed mode: collections, documents and jobs
    /// are the ingestion service's). The console asks for a collection name instead of listing collections.</summary>
    Query,

    /// <summary>Everything: collections and their stats, uploads, jobs, search and context (the standalone host).</summary>
    All,
}

public static class WebConsoleExtensions
{
    public const string PathBase = "/ui";

    // Same-origin only: the console's own scripts and styles, API calls to this host. Nothing inline, nothing remote.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>
    /// Serves the web console's static files at <c>/ui</c> without an API key: the files hold no data; every API
    /// call the console makes carries the key its user enters (kept in the browser's sessionStorage) and passes the
    /// API-key middleware like any other client. <c>/ui/config.json</c> tells the console which features the host has.
    /// </summary>
    public static WebApplication UseWebConsole(this WebApplication app, WebConsoleFeatures features)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(WebConsoleExtensions).Assembly, "wwwroot");
        var config = JsonSerializer.SerializeToUtf8Bytes(new { ingestion = features == WebConsoleFeatures.All });

        app.Map(PathBase, ui =>
        {
            ui.Use(async (context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // Revalidated on every load (ETag), so an upgraded host never runs yesterday's scripts.
                headers.CacheControl = "no-cache";

                // "/ui" → "/ui/": the page's relative module paths resolve under /ui/.
                if (!context.Request.Path.HasValue)
                {
                    context.Response.Redirect(context.Request.PathBase + "/" + context.Request.QueryString);
                    return;
                }

                if (context.Request.Path == "/config.json")
                {
                    context.Response.ContentType = "application/json";
                    await context.Response.Body.WriteAsync(config, context.RequestAborted);
                    return;
                }

                await next(context);
            });
            ui.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            ui.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        });

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RagPlatform.WebConsole");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Read from the server's feature, not app.Urls: the build-time OpenAPI generator runs the host on a server
            // that has no addresses, and app.Urls throws there.
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
            {
                logger.LogInformation("Web console ({Features}): {Url}", features, address.TrimEnd('/') + PathBase + "/");
            }
        });
        return app;
    }
}
