using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Sqlite;

public static class SqliteStorageExtensions
{
    /// <summary>
    /// The embedded metadata store, <c>metadata.db</c> in the data directory, when the host's <see cref="RagTopology"/>
    /// places the metadata in SQLite (no <c>ConnectionStrings:ragdb</c>); otherwise nothing. In the single-process host
    /// the collection-record cache fronts it (<see cref="RagTopology.CollectionRecordCache"/>). Call after <c>AddRagPlatformCore</c>.
    /// </summary>
    public static IHostApplicationBuilder AddRagSqliteMetadataStore(this IHostApplicationBuilder builder)
    {
        var topology = builder.GetRagTopology();
        if (topology.Metadata != MetadataPlacement.Sqlite)
        {
            return builder;
        }

        builder.Services.AddSingleton<IMetadataStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RagPlatformOptions>>().Value;
            var store = new SqliteMetadataStore(Path.Combine(options.ResolveDataDirectory(), "metadata.db"));
            return topology.CollectionRecordCache
                ? new CollectionRecordCache(store, sp.GetRequiredService<IOptions<CacheOptions>>().Value, sp.GetRequiredService<CacheMetrics>())
                : store;
        });
        return builder;
    }
}
