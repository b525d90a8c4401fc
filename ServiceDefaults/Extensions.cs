using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service defaults shared by every RagPlatform host, in the shape of Aspire's ServiceDefaults template:
/// OpenTelemetry (OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), a live-tagged self check,
/// <c>/health</c>, <c>/alive</c>, a Prometheus <c>/metrics</c>, and a standard resilience handler on every
/// <see cref="System.Net.Http.IHttpClientFactory"/> client.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddSingleton<PrometheusMetrics>();
        builder.Services.AddStandardHttpResilience();
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        // A self check tagged "live": the process answers, whatever its dependencies do.
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c> (every check), <c>/alive</c> (live checks only) and <c>/metrics</c> (Prometheus text).
    /// Mapped in every environment, unlike the template: container probes and scrapers need them in
    /// production. The probes answer without credentials and reveal only check names and statuses;
    /// <c>/metrics</c> is left to the service's authentication (it names collections and clients).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath).AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }).AllowAnonymous();
        var metrics = app.Services.GetRequiredService<PrometheusMetrics>();
        app.MapGet(MetricsEndpointPath, (HttpContext context) =>
            Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8")).ExcludeFromDescription();
        return app;
    }
}
