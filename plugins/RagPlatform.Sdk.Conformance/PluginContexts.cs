using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace RagPlatform.Sdk.Conformance;

/// <summary>Builds the <see cref="PluginContext"/> the host would hand a plugin, for plugin tests.</summary>
public static class PluginContexts
{
    /// <summary>A context whose settings are flat "Key" or "Section:Key" pairs, as the host's configuration section would hold them.</summary>
    /// <param name="connectionStrings">The host's <c>ConnectionStrings</c> entries (name → connection string), if any.</param>
    /// <param name="lexical">The host's lexical analysis, for backends that index terms themselves.</param>
    public static PluginContext FromSettings(
        IReadOnlyDictionary<string, string?> settings,
        string dataDirectory,
        IReadOnlyDictionary<string, string?>? connectionStrings = null,
        LexicalAnalysis? lexical = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Directory.CreateDirectory(dataDirectory);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var connections = new ConfigurationBuilder().AddInMemoryCollection(connectionStrings ?? new Dictionary<string, string?>()).Build();
        return new PluginContext(configuration, NullLoggerFactory.Instance, dataDirectory, connections) { Lexical = lexical };
    }
}
