using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RagPlatform.ServiceDefaults.Tests;

/// <summary>A real Kestrel service on a free loopback port with AddServiceDefaults, as every RagPlatform host has.</summary>
public static class TestService
{
    public const string MeterName = "RagPlatform.ServiceDefaultsTests";
    private static readonly ActivitySource Source = new(MeterName);

    public static async Task<(WebApplication App, Uri Url)> StartAsync(
        IDictionary<string, string?> settings, string environment = "Production", Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ApplicationName = "ServiceDefaultsTestService" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        // A health check that does traced work, as a database or cache check does.
        builder.Services.AddHealthChecks().AddCheck("traced-work", () =>
        {
            using (Source.StartActivity("ragplatform.test.probe-work"))
            {
                return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy();
            }
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        var meter = app.Services.GetRequiredService<IMeterFactory>().Create(MeterName);
        var pings = meter.CreateCounter<long>("ragplatform.test.pings");
        app.MapGet("/ping/{id}", (string id, ILogger<WebApplication> logger) =>
        {
            using (Source.StartActivity("ragplatform.test.work"))
            {
                pings.Add(1);
                logger.LogInformation("Ping {Id} answered", id);
            }

            return Results.Text("pong");
        });
        await app.StartAsync();
        return (app, Loopback.AddressOf(app));
    }
}
