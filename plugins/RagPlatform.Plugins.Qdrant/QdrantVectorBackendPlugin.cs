using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Qdrant;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

[assembly: RagPlugin(typeof(QdrantVectorBackendPlugin))]

namespace RagPlatform.Plugins.Qdrant;

/// <summary>Entry point of the "qdrant" vector backend: a Qdrant server through its REST API.</summary>
public sealed class QdrantVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "qdrant";

    public IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions<QdrantOptions>(o => o.Validate());
        var name = options.ConnectionName + "_http";
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
                [$"ConnectionStrings:{name} is not set; give Qdrant's REST address as 'Endpoint=http://host:6333;Key=…' (Aspire sets it for a Qdrant resource named '{options.ConnectionName}')."]);
        }

        return new QdrantVectorBackend(options, connection, context.LoggerFactory.CreateLogger<QdrantVectorBackend>());
    }
}
