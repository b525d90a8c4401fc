using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Sdk;

/// <summary>
/// Marks a plugin assembly's entry points. The host reads only this attribute to learn what an assembly
/// offers, so nothing else in the plugin is loaded until it is chosen by configuration.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class RagPluginAttribute(Type entryPoint) : Attribute
{
    /// <summary>A public type with a parameterless constructor implementing
    /// <see cref="IEmbeddingProviderPlugin"/>, <see cref="IVectorBackendPlugin"/>, <see cref="IRerankerPlugin"/> or
    /// <see cref="Documents.IDocumentParserPlugin"/>.</summary>
    public Type EntryPoint { get; } = entryPoint;
}

/// <summary>Registration entry point of an embedding provider plugin.</summary>
public interface IEmbeddingProviderPlugin
{
    /// <summary>The name configuration uses to choose this provider (e.g. "hashing", "onnx", "openai").</summary>
    string Name { get; }

    /// <summary>Creates a provider from its settings (loading or downloading a model asynchronously). Called once per
    /// distinct settings; the host shares the instance.</summary>
    ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The problems with the plugin's settings (<paramref name="settings"/> is its section), each naming its
    /// configuration key, without creating anything. The host calls it at start for every configured section of
    /// the plugin, so a bad value stops start-up. The default finds none.
    /// </summary>
    IReadOnlyList<string> ValidateSettings(IConfiguration settings) => [];
}

/// <summary>Registration entry point of a vector backend plugin.</summary>
public interface IVectorBackendPlugin
{
    /// <summary>The name configuration uses to choose this backend (e.g. "embedded", "faiss", "pgvector").</summary>
    string Name { get; }

    /// <summary>Creates the backend from its settings. Called once per process; the host shares the instance.</summary>
    ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The problems with the plugin's settings (<paramref name="settings"/> is its section), each naming its
    /// configuration key, without creating anything. The host calls it at start for every configured section of
    /// the plugin, so a bad value stops start-up. The default finds none.
    /// </summary>
    IReadOnlyList<string> ValidateSettings(IConfiguration settings) => [];
}

/// <summary>What the host hands a plugin when it creates one.</summary>
/// <param name="connectionStrings">The host's <c>ConnectionStrings</c> section, so a plugin can name a
/// connection (as Aspire injects them) instead of repeating a secret in its own settings.</param>
/// <param name="httpClients">Makes the host's HttpClients for plugins (see <see cref="CreateHttpClient"/>).</param>
public sealed class PluginContext(
    IConfiguration settings, ILoggerFactory loggerFactory, string dataDirectory, IConfiguration? connectionStrings = null,
    Func<HttpClient>? httpClients = null)
{
    /// <summary>The plugin's own configuration section (e.g. <c>RagPlatform:VectorStore:embedded</c>).</summary>
    public IConfiguration Settings { get; } = settings;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>A directory the plugin may use for its files (already created).</summary>
    public string DataDirectory { get; } = dataDirectory;

    /// <summary>
    /// An HttpClient for the plugin's outbound calls. In a host it comes from the host's <c>IHttpClientFactory</c>:
    /// pooled connections that follow DNS changes, service discovery (an endpoint such as <c>http://embedder</c>
    /// resolves to what the AppHost injected) and HttpClient telemetry; it does not retry, the plugin's own policy
    /// does. Outside a host (the CLI offline, tests) it is a plain client over a pooled handler. The plugin owns
    /// the instance: set its timeout before the first call, dispose it with the plugin.
    /// </summary>
    public HttpClient CreateHttpClient() =>
        httpClients?.Invoke() ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

    /// <summary>The host's lexical analysis (terms and BM25 parameters), for backends that index terms themselves.</summary>
    public LexicalAnalysis? Lexical { get; init; }

    /// <summary>The host's connection string <c>ConnectionStrings:{name}</c>, or null when it has none.</summary>
    public string? GetConnectionString(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var value = connectionStrings?[name];
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>
    /// Binds the settings onto a fresh options object and validates it with <paramref name="validator"/> (the
    /// plugin's <c>[OptionsValidator]</c>); the exception names each bad key.
    /// </summary>
    public TOptions BindOptions<TOptions>(Microsoft.Extensions.Options.IValidateOptions<TOptions> validator)
        where TOptions : class, new()
    {
        var problems = SettingsValidation.Problems(Settings, validator);
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(typeof(TOptions).Name, problems);
        }

        var options = new TOptions();
        Settings.Bind(options);
        return options;
    }

    /// <summary>Binds the settings onto a fresh options object and validates it with <paramref name="validate"/>.</summary>
    public TOptions BindOptions<TOptions>(Func<TOptions, IEnumerable<string>>? validate = null)
        where TOptions : new()
    {
        var options = new TOptions();
        Settings.Bind(options);
        var problems = validate?.Invoke(options).ToList() ?? [];
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(typeof(TOptions).Name, problems);
        }

        return options;
    }
}

/// <summary>A plugin's settings are invalid. The message names each bad setting (never its secret value).</summary>
public sealed class PluginConfigurationException(string optionsName, IReadOnlyList<string> problems)
    : InvalidOperationException($"Invalid {optionsName}: {string.Join("; ", problems)}")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
