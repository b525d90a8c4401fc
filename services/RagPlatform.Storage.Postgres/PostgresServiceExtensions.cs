using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;

namespace RagPlatform.Storage.Postgres;

public static class PostgresServiceExtensions
{
    /// <summary>The connection string name Aspire's <c>AddDatabase("ragdb")</c> injects (<c>ConnectionStrings__ragdb</c>).</summary>
    public const string ConnectionName = "ragdb";

    /// <summary>
    /// Distributed mode's shared state: when <c>ConnectionStrings:ragdb</c> is set, the metadata store and the
    /// document locks live in PostgreSQL instead of the embedded SQLite file and in-process locks, and so does
    /// the lexical index unless an index owner holds it (<see cref="LexicalStore"/>). Call after
    /// <c>AddRagPlatformCore</c>; without the connection string it changes nothing.
    /// </summary>
    public static IHostApplicationBuilder AddRagPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        var lexicalStore = builder.Configuration.GetSection(LexicalOptions.SectionName).Get<LexicalOptions>()?.Store ?? LexicalStore.Auto;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return lexicalStore == LexicalStore.Postgres
                ? throw new InvalidOperationException(
                    $"{LexicalOptions.SectionName}:{nameof(LexicalOptions.Store)} is Postgres but ConnectionStrings:{ConnectionName} is not set.")
                : builder;
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
        services.RemoveAll<IMetadataStore>();
        services.AddSingleton<IMetadataStore, PostgresMetadataStore>();
        services.RemoveAll<IDocumentLocks>();
        services.AddSingleton<IDocumentLocks, PostgresDocumentLocks>();
        if (UsesPostgresLexicalIndex(builder.Configuration, lexicalStore))
        {
            services.RemoveAll<ILexicalIndex>();
            services.AddSingleton<ILexicalIndex>(sp => new PostgresLexicalIndex(
                sp.GetRequiredService<NpgsqlDataSource>(),
                sp.GetRequiredService<PostgresSchemaMigrator>(),
                sp.GetRequiredService<IOptions<LexicalOptions>>().Value));
        }

        return builder;
    }

    /// <summary>
    /// <see cref="LexicalStore.Auto"/> keeps the lexical index beside the vectors: an index owner (this process
    /// serving, or another one named) holds the embedded index, which writes a chunk for a fraction of what its
    /// posting rows cost in PostgreSQL; without one the database is the only index every process shares.
    /// </summary>
    private static bool UsesPostgresLexicalIndex(IConfiguration configuration, LexicalStore store)
    {
        if (store != LexicalStore.Auto)
        {
            return store == LexicalStore.Postgres;
        }

        // Bound as AddRagPlatformCore binds it when it chooses between this process's index and the owner's.
        var owner = configuration.GetSection(RagPlatformOptions.SectionName).Get<RagPlatformOptions>()?.IndexOwner ?? new IndexOwnerOptions();
        return !owner.Serve && string.IsNullOrWhiteSpace(owner.Endpoint);
    }
}
