using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Qdrant;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

[assembly: RagPlugin(typeof(QdrantVectorBackendPlugin))]

namespace RagPlatform.Plugins.Qdrant;

/// <summary>Entry point of the "qdrant" vector backend: a Qdrant server through its gRPC API (Qdrant.Client).</summary>
public sealed class QdrantVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "qdrant";

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new QdrantOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new QdrantOptionsValidator());
        var name = options.ConnectionName;
        ServiceConnectionString? connection;
        try
        {
            connection = ServiceConnectionString.FromContext(context, name);
        }
        catch (FormatException e)
        {
            throw new PluginConfigurationException(nameof(QdrantOptions), [$"ConnectionStrings:{name}: {e.Message}"]);
        }

        if (connection is null)
        {
            throw new PluginConfigurationException(
                nameof(QdrantOptions),
                [$"ConnectionStrings:{name} is not set; give Qdrant's gRPC address as 'Endpoint=http://host:6334;Key=…' (Aspire sets it for a Qdrant resource named '{name}')."]);
        }

        // The host hands its lexical analysis over, so BM25 terms here are the platform's; a host that does not
        // (an older one) gets the defaults of RagPlatform:Lexical.
        var lexical = context.Lexical ?? throw new PluginConfigurationException(
            nameof(QdrantOptions), ["the host gives no lexical analysis (PluginContext.Lexical); the qdrant backend indexes BM25 terms with it."]);
        return new QdrantVectorBackend(options, connection, lexical, context.LoggerFactory.CreateLogger<QdrantVectorBackend>(), context.CreateHttpClient());
    }
}
