using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Hosting;
using RagPlatform.Messaging;

namespace RagPlatform.Core.Tests;

public sealed class MessagingTests
{
    [Fact]
    public void The_bus_reports_no_usage_telemetry_to_its_vendor()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.ResolveRagTopology(RagHostRole.IngestionService);
        builder.AddRagMessaging();
        using var host = builder.Build();

        Assert.False(host.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }
}
