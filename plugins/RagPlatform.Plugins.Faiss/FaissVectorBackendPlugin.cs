using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Faiss;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(FaissVectorBackendPlugin))]

namespace RagPlatform.Plugins.Faiss;

/// <summary>Entry point of the "faiss" vector backend: FAISS indexes with payloads beside them in the data directory.</summary>
public sealed class FaissVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "faiss";

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new FaissVectorOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new FaissVectorOptionsValidator());
        options.Path = string.IsNullOrWhiteSpace(options.Path)
            ? context.DataDirectory
            : System.IO.Path.GetFullPath(options.Path, System.IO.Path.GetFullPath(context.DataDirectory));
        return new FaissVectorBackend(options, context.LoggerFactory.CreateLogger<FaissVectorBackend>());
    }
}
