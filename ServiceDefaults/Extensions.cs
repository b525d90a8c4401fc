using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service defaults shared by every RagPlatform host, as Aspire 13.6's ServiceDefaults template writes them:
/// OpenTelemetry logs, metrics and traces (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set),
/// service discovery and the standard resilience handler on every <see cref="IHttpClientFactory"/> client, a
/// live-tagged self check, <c>/health</c> and <c>/alive</c>; and, beside the template, a Prometheus <c>/metrics</c>.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddSingleton<PrometheusMetrics>();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([.. TelemetrySources.Meters, builder.Environment.ApplicationName]))
            .WithTracing(tracing => tracing
                .AddSource([.. TelemetrySources.ActivitySources, builder.Environment.ApplicationName])
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    // Probes and scrapes are left out of traces: they would be most of them.
                    aspNetCore.Filter = context => !IsProbeOrScrape(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]))
        {
            // Reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
            // from configuration, as the AppHost injects them, and exports all three signals.
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

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
    /// <c>/health</c> (every check: ready), <c>/alive</c> (live checks only) and <c>/metrics</c> (Prometheus text).
    /// Mapped in every environment, unlike the template: container probes and scrapers need them in production.
    /// The probes answer without credentials and reveal only the overall status; <c>/metrics</c> is left to the
    /// service's authentication (it names collections and clients).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath).AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }).AllowAnonymous();
        var metrics = app.Services.GetRequiredService<PrometheusMetrics>();
        app.MapGet(MetricsEndpointPath, () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8")).ExcludeFromDescription();
        return app;
    }

    private static bool IsProbeOrScrape(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath) || path.StartsWithSegments(MetricsEndpointPath);
}
