using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// OpenTelemetry logs, metrics and traces as Aspire's template sets them up, built on the OpenTelemetry SDK
/// package alone. The SDK's providers live in the application's container (so they read OTEL_* settings from
/// the host's configuration, and the container disposes, i.e. flushes, them on shutdown); what
/// OpenTelemetry.Extensions.Hosting would add, starting them with the host, is <see cref="TelemetryStarter"/>.
/// Registered only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class OpenTelemetryExtensions
{
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string OtlpProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";
    public const string ResourceAttributesKey = "OTEL_RESOURCE_ATTRIBUTES";

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(TelemetryExport)))
        {
            return builder;
        }

        var export = TelemetryExport.From(builder.Configuration);
        services.AddSingleton(export);
        if (!export.Enabled)
        {
            // Unlike the template, no providers at all without an exporter: spans and log records nobody
            // receives would only cost every request (Prometheus /metrics has its own MeterListener).
            return builder;
        }

        // Starts the providers before any other hosted service, so start-up work is already traced.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, TelemetryStarter>());

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = new ServiceCollectionOpenTelemetryBuilder(services);
        var applicationName = builder.Environment.ApplicationName;
        otel.ConfigureResource(resource =>
        {
            // The SDK's default resource already reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from the
            // configuration; name the service after the application only when neither does.
            if (!NamesService(builder.Configuration))
            {
                resource.AddService(applicationName);
            }
        });
        otel.WithMetrics(metrics => metrics.AddMeter([.. TelemetrySources.Meters, applicationName]));
        otel.WithTracing(tracing => tracing.AddSource([.. TelemetrySources.ActivitySources, applicationName]));

        // The ASP.NET Core instrumentation package would name server spans after their route, tag them with
        // the semantic-convention attributes and leave out probe requests; this middleware does the same.
        services.AddSingleton<IStartupFilter, ServerSpanStartupFilter>();

        // Reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL (grpc | http/protobuf) / _HEADERS from the host's
        // configuration and exports all three signals, exactly as the template's UseOtlpExporter() does.
        otel.UseOtlpExporter();
        return builder;
    }

    private static bool NamesService(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[ServiceNameKey])
        || (configuration[ResourceAttributesKey] ?? string.Empty)
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(pair => pair.StartsWith("service.name=", StringComparison.Ordinal));

    /// <summary>The OpenTelemetry builder over the application's own service collection.</summary>
    private sealed class ServiceCollectionOpenTelemetryBuilder : IOpenTelemetryBuilder
    {
        public ServiceCollectionOpenTelemetryBuilder(IServiceCollection services)
        {
            // As the SDK's own builders do: its static constructor installs the W3C propagators.
            _ = Sdk.SuppressInstrumentation;
            Services = services;
        }

        public IServiceCollection Services { get; }
    }
}

/// <summary>Whether and where telemetry is exported (OTLP), as read from configuration at start-up.</summary>
public sealed record TelemetryExport(bool Enabled, string? Endpoint, string Protocol)
{
    public static TelemetryExport From(IConfiguration configuration)
    {
        var endpoint = configuration[OpenTelemetryExtensions.OtlpEndpointKey];
        var protocol = configuration[OpenTelemetryExtensions.OtlpProtocolKey];
        return new TelemetryExport(
            !string.IsNullOrWhiteSpace(endpoint),
            string.IsNullOrWhiteSpace(endpoint) ? null : endpoint.Trim(),
            string.IsNullOrWhiteSpace(protocol) ? "grpc" : protocol.Trim());
    }
}

/// <summary>
/// Resolves the tracer, meter and logger providers when the host starts (what
/// OpenTelemetry.Extensions.Hosting's hosted service does): until resolved, nothing listens.
/// </summary>
internal sealed class TelemetryStarter(IServiceProvider services, TelemetryExport export, ILogger<TelemetryStarter> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetService<TracerProvider>();
        _ = services.GetService<MeterProvider>();
        _ = services.GetService<LoggerProvider>();

        // Scheme, host and port only: no user info or query that could carry a credential (headers, which
        // carry the dashboard's API key, are never logged either).
        var endpoint = Uri.TryCreate(export.Endpoint, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Host}:{uri.Port}" : "(not a URL)";
        logger.LogInformation("OpenTelemetry: exporting logs, metrics and traces over OTLP ({Protocol}) to {Endpoint}", export.Protocol, endpoint);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Names server spans after their route, tags them, and drops probe and scrape requests from traces.</summary>
internal sealed class ServerSpanStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            var activity = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity;
            if (activity is null)
            {
                await nextMiddleware(context);
                return;
            }

            var path = context.Request.Path;
            if (path.StartsWithSegments(Extensions.HealthEndpointPath) || path.StartsWithSegments(Extensions.AlivenessEndpointPath)
                || path.StartsWithSegments(Extensions.MetricsEndpointPath))
            {
                // Not recorded, so no exporter sees it (the template's instrumentation Filter does the same).
                activity.IsAllDataRequested = false;
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
                await nextMiddleware(context);
                return;
            }

            SetIfAbsent(activity, "http.request.method", context.Request.Method);
            SetIfAbsent(activity, "url.path", path.Value);
            SetIfAbsent(activity, "url.scheme", context.Request.Scheme);
            try
            {
                await nextMiddleware(context);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                if (route is not null)
                {
                    SetIfAbsent(activity, "http.route", route);
                    activity.DisplayName = context.Request.Method + " " + route;
                }

                SetIfAbsent(activity, "http.response.status_code", context.Response.StatusCode);
                if (context.Response.StatusCode >= 500)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
        });
        next(app);
    };

    private static void SetIfAbsent(Activity activity, string key, object? value)
    {
        if (activity.GetTagItem(key) is null)
        {
            activity.SetTag(key, value);
        }
    }
}
