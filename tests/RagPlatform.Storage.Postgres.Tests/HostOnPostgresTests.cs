using RagPlatform.Storage.Sqlite;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Lexical;
using RagPlatform.Core.Storage;
using RagPlatform.Hosting;

namespace RagPlatform.Storage.Postgres.Tests;

/// <summary>
/// The platform's composition (the standalone host, which the CLI also runs in-process) given
/// ConnectionStrings:ragdb: its metadata, locks and lexical index are Postgres's, and the API works on them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostOnPostgresTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "rag-pghost-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _collection = "host-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Without_ragdb_the_embedded_stores_stay()
    {
        var builder = StandaloneHost.CreateBuilder(["--RagPlatform:DataDirectory=" + _dataDirectory]);
        await using var app = StandaloneHost.Build(builder);

        // The single-process host fronts its own store with the collection-record cache (every write passes through it).
        Assert.IsType<SqliteMetadataStore>(Assert.IsType<CollectionRecordCache>(app.Services.GetRequiredService<IMetadataStore>()).Inner);
        AssertEveryConcernIsTheMetadataStore(app.Services);
        Assert.IsType<DocumentLocks>(app.Services.GetRequiredService<IDocumentLocks>());
        Assert.IsType<EmbeddedLexicalIndex>(app.Services.GetRequiredService<ILexicalIndex>());
    }

    [Theory]
    [InlineData(new string[0], typeof(PostgresLexicalIndex))]
    [InlineData(new[] { "--RagPlatform:IndexOwner:Serve=true" }, typeof(EmbeddedLexicalIndex))]
    [InlineData(new[] { "--RagPlatform:IndexOwner:Endpoint=http://127.0.0.1:9" }, typeof(RemoteLexicalIndex))]
    [InlineData(new[] { "--RagPlatform:IndexOwner:Endpoint=http://127.0.0.1:9", "--RagPlatform:Lexical:Store=Postgres" }, typeof(PostgresLexicalIndex))]
    [InlineData(new[] { "--RagPlatform:Lexical:Store=Embedded" }, typeof(EmbeddedLexicalIndex))]
    public async Task With_ragdb_the_lexical_index_stays_beside_the_vectors_unless_a_store_is_named(string[] settings, Type expected)
    {
        var builder = StandaloneHost.CreateBuilder(
            [.. settings, "--ConnectionStrings:ragdb=" + server.ConnectionString, "--RagPlatform:DataDirectory=" + _dataDirectory]);
        await using var app = StandaloneHost.Build(builder);

        Assert.IsType(expected, app.Services.GetRequiredService<ILexicalIndex>());
        Assert.IsType<PostgresMetadataStore>(app.Services.GetRequiredService<IMetadataStore>());
        AssertEveryConcernIsTheMetadataStore(app.Services);
    }

    /// <summary>The store's concerns (collections, documents, jobs, re-index) resolve to the one registered store.</summary>
    private static void AssertEveryConcernIsTheMetadataStore(IServiceProvider services)
    {
        var store = services.GetRequiredService<IMetadataStore>();
        Assert.Same(store, services.GetRequiredService<ICollectionStore>());
        Assert.Same(store, services.GetRequiredService<IDocumentStore>());
        Assert.Same(store, services.GetRequiredService<IJobStore>());
        Assert.Same(store, services.GetRequiredService<IReindexStore>());
    }

    [Fact]
    public void A_Postgres_lexical_store_without_ragdb_is_refused_at_start_up()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            StandaloneHost.CreateBuilder(["--RagPlatform:Lexical:Store=Postgres", "--RagPlatform:DataDirectory=" + _dataDirectory]));
        Assert.Contains("RagPlatform:Lexical:Store", error.Message);
        Assert.Contains("ConnectionStrings:ragdb", error.Message);
    }

    [Fact]
    public async Task With_ragdb_documents_are_ingested_searched_and_deleted_through_Postgres()
    {
        var builder = StandaloneHost.CreateBuilder(
        [
            "--ConnectionStrings:ragdb=" + server.ConnectionString,
            "--RagPlatform:DataDirectory=" + _dataDirectory,
            "--Logging:LogLevel:Default=Warning",
            "--urls=http://127.0.0.1:0",
        ]);
        await using var app = StandaloneHost.Build(builder);
        Assert.IsType<PostgresMetadataStore>(app.Services.GetRequiredService<IMetadataStore>());
        Assert.IsType<PostgresDocumentLocks>(app.Services.GetRequiredService<IDocumentLocks>());
        Assert.IsType<PostgresLexicalIndex>(app.Services.GetRequiredService<ILexicalIndex>());
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address) };

            var job = await IngestAsync(client, new object[]
            {
                new { id = "loan", title = "대출 금리 안내", text = "은행의 주택담보대출 금리가 이번 달에 0.25%포인트 올랐다. 변동금리 대출을 받은 고객은 이자 부담이 커진다.", tags = new[] { "finance" } },
                new { id = "football", title = "축구 경기 결과", text = "어제 열린 축구 경기에서 홈팀이 2대 1로 이겼다. 다음 경기는 토요일이다.", tags = new[] { "sports" } },
                new { id = "checkup", title = "건강검진 준비", text = "건강검진 전날에는 저녁 아홉 시 이후 금식해야 해요.", tags = new[] { "health" } },
            });
            Assert.Equal(JobStates.Completed, job.State);

            var lexical = await SearchAsync(client, new { query = "은행은 주택담보대출", topK = 3, mode = "lexical" });
            Assert.Equal("loan", lexical.Results[0].DocumentId);
            var hybrid = await SearchAsync(client, new { query = "축구 경기", topK = 3, tags = new[] { "sports" } });
            Assert.Equal(["football"], hybrid.Results.Select(r => r.DocumentId).Distinct());

            // What the host wrote is in the database, where another process would see it.
            await using var dataSource = server.CreateDataSource();
            Assert.Equal(3L, await ScalarAsync(dataSource, "SELECT count(*) FROM documents WHERE collection = $1 AND committed_revision > 0"));
            Assert.True(await ScalarAsync(dataSource,
                "SELECT count(*) FROM lexical_chunks c JOIN lexical_collections l ON l.id = c.collection_id WHERE l.name = $1") >= 3);

            using (var deleted = await client.DeleteAsync($"/v1/collections/{_collection}/documents/football"))
            {
                Assert.True(deleted.IsSuccessStatusCode);
            }

            Assert.Empty((await SearchAsync(client, new { query = "축구 경기", topK = 3, mode = "lexical" })).Results);
            Assert.Equal(0L, await ScalarAsync(dataSource,
                "SELECT count(*) FROM lexical_chunks c JOIN lexical_collections l ON l.id = c.collection_id WHERE l.name = $1 AND c.document_id = 'football'"));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private async Task<JobStatus> IngestAsync(HttpClient client, object documents)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{_collection}/documents", documents);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(Json))!;
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var status = (await client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{accepted.JobId}", Json))!;
            if (JobStates.IsFinal(status.State))
            {
                return status;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Job {accepted.JobId} did not finish.");
    }

    private async Task<SearchResponse> SearchAsync(HttpClient client, object request)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{_collection}/search", request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
    }

    private async Task<long> ScalarAsync(Npgsql.NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(_collection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
