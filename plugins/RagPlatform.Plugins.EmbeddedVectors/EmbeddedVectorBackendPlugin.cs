using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.EmbeddedVectors;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(EmbeddedVectorBackendPlugin))]

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>Entry point of the "embedded" vector backend: exact search, files in the plugin's data directory.</summary>
public sealed class EmbeddedVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "embedded";

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new EmbeddedVectorOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new EmbeddedVectorOptionsValidator());
        options.Path = string.IsNullOrWhiteSpace(options.Path)
            ? context.DataDirectory
            : System.IO.Path.GetFullPath(options.Path, System.IO.Path.GetFullPath(context.DataDirectory));
        return new EmbeddedVectorBackend(options, context.LoggerFactory.CreateLogger<EmbeddedVectorBackend>());
    }
}
