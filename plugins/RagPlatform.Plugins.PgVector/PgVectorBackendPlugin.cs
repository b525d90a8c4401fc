using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.PgVector;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(PgVectorBackendPlugin))]

namespace RagPlatform.Plugins.PgVector;

/// <summary>Entry point of the "pgvector" vector backend: PostgreSQL with the pgvector extension.</summary>
public sealed class PgVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "pgvector";

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new PgVectorOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private IVectorBackend Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new PgVectorOptionsValidator());
        var connectionString = string.IsNullOrWhiteSpace(options.ConnectionString)
            ? context.GetConnectionString(options.ConnectionName)
            : options.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new PluginConfigurationException(
                nameof(PgVectorOptions),
                [$"No connection string: {nameof(PgVectorOptions.ConnectionString)} is empty and ConnectionStrings:{options.ConnectionName} is not set."]);
        }

        return new PgVectorBackend(options, connectionString, context.LoggerFactory.CreateLogger<PgVectorBackend>());
    }
}
