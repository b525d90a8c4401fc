using System.Text.Encodings.Web;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Core.Messaging;

public static class MessagingExtensions
{
    /// <summary>
    /// Registers the bus once per process with whatever consumers this host runs. The same consumers run
    /// on every transport; only the transport differs between the embedded and distributed modes.
    /// </summary>
    public static IHostApplicationBuilder AddRagMessaging(
        this IHostApplicationBuilder builder, params Action<IBusRegistrationConfigurator>[] consumers)
    {
        var options = builder.Configuration.GetSection(RagPlatformOptions.SectionName).Get<RagPlatformOptions>() ?? new RagPlatformOptions();
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            foreach (var configure in consumers)
            {
                configure(bus);
            }

            switch (options.Messaging.Transport.ToUpperInvariant())
            {
                case "INMEMORY":
                    bus.UsingInMemory((context, cfg) =>
                    {
                        ConfigureSerializer(cfg);
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                default:
                    throw new InvalidOperationException(
                        $"RagPlatform:Messaging:Transport '{options.Messaging.Transport}' is not available in this build (supported: InMemory).");
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
