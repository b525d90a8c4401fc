using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Pinecone;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

[assembly: RagPlugin(typeof(PineconeVectorBackendPlugin))]

namespace RagPlatform.Plugins.Pinecone;

/// <summary>Entry point of the "pinecone" vector backend: Pinecone serverless indexes through the REST API.</summary>
public sealed class PineconeVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "pinecone";

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new PineconeOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new PineconeOptionsValidator());
        ServiceConnectionString? connection;
        try
        {
            connection = ServiceConnectionString.FromContext(context, options.ConnectionName);
        }
        catch (FormatException e)
        {
            throw new PluginConfigurationException(nameof(PineconeOptions), [$"ConnectionStrings:{options.ConnectionName}: {e.Message}"]);
        }

        if (connection?.Key is null)
        {
            throw new PluginConfigurationException(
                nameof(PineconeOptions),
                [$"ConnectionStrings:{options.ConnectionName} must be 'Endpoint=https://api.pinecone.io;Key=<API key>' (the key is required)."]);
        }

        return new PineconeVectorBackend(options, connection, context.LoggerFactory.CreateLogger<PineconeVectorBackend>(), context.CreateHttpClient());
    }
}
