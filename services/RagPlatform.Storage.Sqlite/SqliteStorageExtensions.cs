using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Sqlite;

public static class SqliteStorageExtensions
{
    /// <summary>
    /// The embedded metadata store: <c>metadata.db</c> in the data directory. Call after <c>AddRagPlatformCore</c> and
    /// before <c>AddRagPostgres</c>, which replaces it when <c>ConnectionStrings:ragdb</c> is set.
    /// </summary>
    public static IHostApplicationBuilder AddRagSqliteMetadataStore(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<IMetadataStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RagPlatformOptions>>().Value;
            return new SqliteMetadataStore(Path.Combine(options.ResolveDataDirectory(), "metadata.db"));
        });
        return builder;
    }
}
