using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace RagPlatform.Sdk.Conformance;

/// <summary>Builds the <see cref="PluginContext"/> the host would hand a plugin, for plugin tests.</summary>
public static class PluginContexts
{
    /// <summary>A context whose settings are flat "Key" or "Section:Key" pairs, as the host's configuration section would hold them.</summary>
    public static PluginContext FromSettings(IReadOnlyDictionary<string, string?> settings, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Directory.CreateDirectory(dataDirectory);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new PluginContext(configuration, NullLoggerFactory.Instance, dataDirectory);
    }
}
