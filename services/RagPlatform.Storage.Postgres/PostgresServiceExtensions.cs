using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Hosting;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

public static class PostgresServiceExtensions
{
    /// <summary>The connection string name Aspire's <c>AddDatabase("ragdb")</c> injects (<c>ConnectionStrings__ragdb</c>).</summary>
    public const string ConnectionName = RagTopology.MetadataConnectionName;

    /// <summary>
    /// Distributed mode's shared state, as the host's <see cref="RagTopology"/> places it: with the metadata in
    /// PostgreSQL (<c>ConnectionStrings:ragdb</c> set) the metadata store and the document locks, and the lexical
    /// index when the topology puts it there too (<see cref="LexicalStore"/>: Auto keeps it beside the vectors when an
    /// index owner holds them). Call after <c>AddRagPlatformCore</c>; with the metadata in SQLite it registers nothing.
    /// </summary>
    public static IHostApplicationBuilder AddRagPostgres(this IHostApplicationBuilder builder)
    {
        var topology = builder.GetRagTopology();
        if (topology.Metadata != MetadataPlacement.Postgres)
        {
            return builder;
        }

        var services = builder.Services;
        // Aspire's client integration: one NpgsqlDataSource per process, its health check (/health means the database
        // answers), tracing and metrics.
        builder.AddNpgsqlDataSource(ConnectionName, configureDataSourceBuilder: dataSource =>
        {
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                // The same few statements run all day (the lexical search plans in ~20 ms): prepare them once per connection.
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }
        });
        services.AddSingleton<PostgresSchemaMigrator>();
        services.AddSingleton<IMetadataStore, PostgresMetadataStore>();
        services.AddSingleton<IDocumentLocks, PostgresDocumentLocks>();
        if (topology.Lexical == LexicalPlacement.Postgres)
        {
            services.AddSingleton<ILexicalIndex>(sp => new PostgresLexicalIndex(
                sp.GetRequiredService<NpgsqlDataSource>(),
                sp.GetRequiredService<PostgresSchemaMigrator>(),
                sp.GetRequiredService<IOptions<LexicalOptions>>().Value));
        }

        return builder;
    }
}
