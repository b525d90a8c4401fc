using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Lexical;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

public static class PostgresServiceExtensions
{
    /// <summary>The connection string name Aspire's <c>AddDatabase("ragdb")</c> injects (<c>ConnectionStrings__ragdb</c>).</summary>
    public const string ConnectionName = "ragdb";

    /// <summary>
    /// Distributed mode's shared state: when <c>ConnectionStrings:ragdb</c> is set, the metadata store, the
    /// document locks and the lexical index live in PostgreSQL instead of the embedded SQLite file,
    /// in-process locks and index files. Call after <c>AddRagPlatformCore</c>; without the connection string
    /// it changes nothing.
    /// </summary>
    public static IHostApplicationBuilder AddRagPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        var services = builder.Services;
        services.AddSingleton(_ =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString) { Name = ConnectionName };
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                // The same few statements run all day (the lexical search plans in ~20 ms): prepare them once per connection.
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }

            return dataSource.Build();
        });
        services.AddSingleton<PostgresSchemaMigrator>();
        services.RemoveAll<IMetadataStore>();
        services.AddSingleton<IMetadataStore, PostgresMetadataStore>();
        services.RemoveAll<IDocumentLocks>();
        services.AddSingleton<IDocumentLocks, PostgresDocumentLocks>();
        services.RemoveAll<ILexicalIndex>();
        services.AddSingleton<ILexicalIndex>(sp => new PostgresLexicalIndex(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<PostgresSchemaMigrator>(),
            sp.GetRequiredService<IOptions<LexicalOptions>>().Value));
        return builder;
    }
}
