using System.Text.Encodings.Web;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;

namespace RagPlatform.Messaging;

public static class MessagingExtensions
{
    /// <summary>The Aspire connection name of the broker: <c>ConnectionStrings__messaging=amqp://user:pwd@host:port</c>.</summary>
    public const string ConnectionName = RagTopology.MessagingConnectionName;

    /// <summary>
    /// Registers the bus once per process with whatever consumers this host runs. The same consumers run
    /// on every transport; only the transport differs between the embedded and distributed modes, as the host's
    /// <see cref="RagTopology.Messaging"/> says: RabbitMQ when <c>ConnectionStrings:messaging</c> is set, else in-memory.
    /// </summary>
    public static IHostApplicationBuilder AddRagMessaging(
        this IHostApplicationBuilder builder, params Action<IBusRegistrationConfigurator>[] consumers)
    {
        var options = builder.Configuration.GetSection(RagPlatformOptions.SectionName).Get<RagPlatformOptions>() ?? new RagPlatformOptions();
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        var topology = builder.GetRagTopology();
        var transport = topology.Messaging == MessagingTransport.None
            ? throw new InvalidOperationException($"The {topology.Role} host runs no message bus (RagTopology.Messaging is None).")
            : topology.Messaging;
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.4 reports usage telemetry to its vendor over the internet by default. A self-hosted
            // platform makes no calls its operators did not configure (and tests may reach loopback only).
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            foreach (var configure in consumers)
            {
                configure(bus);
            }

            switch (transport)
            {
                case MessagingTransport.InMemory:
                    bus.UsingInMemory((context, cfg) =>
                    {
                        ConfigureSerializer(cfg);
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                case MessagingTransport.RabbitMq:
                    var broker = RabbitMqAddress.Parse(connectionString);
                    bus.UsingRabbitMq((context, cfg) =>
                    {
                        cfg.Host(broker.HostAddress, host =>
                        {
                            // Credentials travel separately from the address, so the address MassTransit logs
                            // and puts in fault messages never carries the password.
                            host.Username(broker.Username);
                            host.Password(broker.Password);
                            // The broker confirms every publish before Publish returns: an accepted job's
                            // messages are on disk (durable queue, persistent message), not in a socket buffer.
                            host.PublisherConfirmation = true;
                            host.Heartbeat(TimeSpan.FromSeconds(10));
                            host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                        });
                        cfg.PrefetchCount = options.Messaging.EffectivePrefetchCount;
                        ConfigureSerializer(cfg);
                        // Same endpoint names in every replica: the replicas compete for one queue, and a
                        // message that exhausts its retries moves to <queue>_error (MassTransit's default).
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                default:
                    throw new InvalidOperationException($"Messaging transport {transport} is not wired.");
            }
        });
        return builder;
    }

    /// <summary>
    /// Messages carry chunk text, mostly Hangul: keep it as UTF-8 rather than \uXXXX escapes, which halves
    /// what every EmbedDocuments message costs to serialise, move and parse.
    /// </summary>
    private static void ConfigureSerializer(IBusFactoryConfigurator cfg) =>
        cfg.ConfigureJsonSerializerOptions(options =>
        {
            options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
            return options;
        });
}

/// <summary>An amqp URI split into the address (safe to log) and the credentials (never logged).</summary>
public sealed record RabbitMqAddress(Uri HostAddress, string Username, string Password)
{
    public static RabbitMqAddress Parse(string? connectionString)
    {
        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("amqp" or "amqps" or "rabbitmq" or "rabbitmqs"))
        {
            // Do not echo the value: it holds the password.
            throw new InvalidOperationException(
                $"ConnectionStrings:{MessagingExtensions.ConnectionName} must be an amqp URI such as amqp://user:password@host:5672 (value not shown).");
        }

        var username = "guest";
        var password = "guest";
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            username = Uri.UnescapeDataString(parts[0]);
            password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        }

        var builder = new UriBuilder(uri) { UserName = "", Password = "" };
        return new RabbitMqAddress(builder.Uri, username, password);
    }

    public override string ToString() => HostAddress.ToString();
}
