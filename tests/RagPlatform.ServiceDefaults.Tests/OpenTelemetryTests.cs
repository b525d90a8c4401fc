using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;

namespace RagPlatform.ServiceDefaults.Tests;

public sealed class OpenTelemetryTests
{
    [Fact]
    public async Task With_an_OTLP_http_protobuf_endpoint_the_service_exports_traces_metrics_and_logs()
    {
        await using var receiver = new OtlpReceiver();
        IServiceCollection? services = null;
        var (app, url) = await TestService.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=dashboard-key",
            ["OTEL_SERVICE_NAME"] = "ragplatform-otlp-test",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=replica-7",
        }, configure: b => services = b.Services);
        Assert.Contains(services!, RegistersOtlpExporter);
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = url };
            Assert.Equal("pong", await client.GetStringAsync("/ping/otlp-7f3a"));
            Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);

            // Stopping the host disposes the providers, which flushes every signal: no waiting on export intervals.
            await app.StopAsync();
        }

        var traces = receiver.For("/v1/traces");
        var metrics = receiver.For("/v1/metrics");
        var logs = receiver.For("/v1/logs");
        Assert.NotEmpty(traces);
        Assert.NotEmpty(metrics);
        Assert.NotEmpty(logs);
        Assert.All(receiver.Received, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("application/x-protobuf", r.ContentType);
            Assert.Equal("dashboard-key", r.ApiKey);
        });

        // Resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES on every signal.
        Assert.Contains(traces, t => t.Contains("ragplatform-otlp-test") && t.Contains("replica-7"));
        Assert.Contains(metrics, m => m.Contains("ragplatform-otlp-test"));
        Assert.Contains(logs, l => l.Contains("ragplatform-otlp-test"));

        // The ASP.NET Core server span named after its route, our own span, our meter, our log line.
        Assert.Contains(traces, t => t.Contains("GET /ping/{id}"));
        Assert.Contains(traces, t => t.Contains("ragplatform.test.work"));
        Assert.Contains(metrics, m => m.Contains("ragplatform.test.pings"));
        Assert.Contains(metrics, m => m.Contains("http.server.request.duration"));
        Assert.Contains(logs, l => l.Contains("Ping otlp-7f3a answered"));

        // Probe requests are left out of traces, as the template's filter does, and so is the work their checks do.
        Assert.DoesNotContain(traces, t => t.Contains("GET /health"));
        Assert.DoesNotContain(traces, t => t.Contains("ragplatform.test.probe-work"));
    }

    [Fact]
    public async Task With_an_OTLP_grpc_endpoint_the_service_exports_traces_metrics_and_logs_over_grpc()
    {
        await using var receiver = await GrpcOtlpReceiver.StartAsync();
        var (app, url) = await TestService.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=dashboard-key",
            ["OTEL_SERVICE_NAME"] = "ragplatform-grpc-test",
        });
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = url };
            Assert.Equal("pong", await client.GetStringAsync("/ping/grpc-51c2"));
            await app.StopAsync();
        }

        var traces = receiver.For("trace.v1.TraceService");
        var metrics = receiver.For("metrics.v1.MetricsService");
        var logs = receiver.For("logs.v1.LogsService");
        Assert.Contains(traces, t => t.Contains("ragplatform-grpc-test") && t.Contains("GET /ping/{id}"));
        Assert.Contains(metrics, m => m.Contains("ragplatform.test.pings"));
        Assert.Contains(logs, l => l.Contains("Ping grpc-51c2 answered"));
        Assert.All(traces.Concat(metrics).Concat(logs), r =>
        {
            Assert.Equal("application/grpc", r.ContentType);
            Assert.Equal("dashboard-key", r.ApiKey);
        });
    }

    [Fact]
    public async Task Without_OTEL_EXPORTER_OTLP_ENDPOINT_no_exporter_is_registered_and_the_service_runs_and_stops_cleanly()
    {
        IServiceCollection? services = null;
        var (app, url) = await TestService.StartAsync(new Dictionary<string, string?>
        {
            // A protocol alone configures nothing: the endpoint is what turns export on.
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        }, configure: b => services = b.Services);
        await using (app)
        {
            Assert.DoesNotContain(services!, RegistersOtlpExporter);

            using var client = new HttpClient { BaseAddress = url };
            Assert.Equal("pong", await client.GetStringAsync("/ping/no-export"));
            await app.StopAsync();
        }
    }

    /// <summary>Any registration of a type from the OTLP exporter assembly (directly or as a generic argument).</summary>
    private static bool RegistersOtlpExporter(ServiceDescriptor descriptor)
    {
        var otlp = typeof(OtlpExporterOptions).Assembly;
        bool Mentions(Type? type) => type is not null && (type.Assembly == otlp || type.GenericTypeArguments.Any(Mentions));
        return descriptor.IsKeyedService
            ? Mentions(descriptor.ServiceType) || Mentions(descriptor.KeyedImplementationType) || Mentions(descriptor.KeyedImplementationInstance?.GetType())
            : Mentions(descriptor.ServiceType) || Mentions(descriptor.ImplementationType) || Mentions(descriptor.ImplementationInstance?.GetType());
    }
}
