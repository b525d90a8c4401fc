extern alias rag;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RagPlatform.Contracts.Http;
using RagPlatform.Plugins.Qdrant.Tests.Contract;
using Xunit.Abstractions;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// The whole platform (the standalone host: ingestion, embedding, query) with its collections in Qdrant — the
/// contract server — next to the same platform on its embedded backend and lexical index. Searches of the Qdrant
/// collection run lexical and hybrid retrieval inside the server, and must rank as the embedded platform does.
/// </summary>
public sealed class QdrantPlatformTests(ITestOutputHelper output)
{
    private static readonly string[] Queries =
    [
        "건강검진 전날 금식", "주택담보대출 변동금리", "게임 패치 내용", "환불 규정", "인공지능 도구 추천",
        "내일 날씨", "도서관 운영 시간", "자주 묻는 질문", "금리 인상", "검진 결과 확인",
    ];

    [Fact]
    public async Task HybridAndLexicalSearchesInsideQdrantRankTheSamplesAsTheEmbeddedPlatformDoes()
    {
        await using var server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        await using var embedded = new Platform(null);
        await using var qdrant = new Platform(server.ConnectionString);
        var documents = SampleDocuments();

        await embedded.IngestAsync("samples", documents);
        await qdrant.IngestAsync("samples", documents);

        Assert.True(server.Contract.PointCount("samples") > documents.Count / 2, "the chunks are stored in Qdrant");
        foreach (var mode in new[] { SearchModes.Hybrid, SearchModes.Lexical })
        {
            foreach (var query in Queries)
            {
                var expected = await embedded.SearchAsync("samples", query, mode, 5);
                var actual = await qdrant.SearchAsync("samples", query, mode, 5);
                output.WriteLine($"{mode} '{query}': embedded {string.Join(", ", expected.Select(r => $"{r.ChunkId[..8]}:{r.Score:F4}"))}");
                output.WriteLine($"{mode} '{query}': qdrant   {string.Join(", ", actual.Select(r => $"{r.ChunkId[..8]}:{r.Score:F4}"))}");

                // The same scores in the same order and the same best chunk. Below it, chunks the hashing embedder
                // finds equally (un)related to the query — cosine exactly 0, a tie on the dense side — may swap
                // places: Qdrant leaves the order of equal scores open (the contract server shuffles them).
                Assert.Equal(expected.Count, actual.Count);
                Assert.Equal(expected[0].ChunkId, actual[0].ChunkId);
                foreach (var (e, a) in expected.Zip(actual))
                {
                    Assert.True(Math.Abs(e.Score - a.Score) <= 1e-4 * Math.Max(1, Math.Abs(e.Score)), $"{mode} '{query}': {e.Score} vs {a.Score}");
                }

                if (mode == SearchModes.Lexical)
                {
                    Assert.Equal(expected.Select(r => r.ChunkId), actual.Select(r => r.ChunkId));
                }
            }
        }

        // The Qdrant collection has no separate lexical index: nothing was written under the lexical store's folder.
        Assert.False(Directory.Exists(Path.Combine(qdrant.DataDirectory, "lexical", "samples")), "a lexical index was written for the Qdrant collection");
    }

    [Fact]
    public async Task TheActiveAliasFollowsABlueGreenReindex()
    {
        await using var server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        await using var qdrant = new Platform(server.ConnectionString);
        await qdrant.IngestAsync("bluegreen", SampleDocuments());
        Assert.Equal("bluegreen", server.Contract.Aliases["bluegreen_active"]);

        var version = await qdrant.ReindexAsync("bluegreen", new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } });

        Assert.Equal(2, version);

        // The platform's metadata switches first (it decides which version serves); the alias follows a moment later.
        for (var wait = 0; wait < 200 && server.Contract.Aliases["bluegreen_active"] != "bluegreen__v2"; wait++)
        {
            await Task.Delay(25);
        }

        Assert.Equal("bluegreen__v2", server.Contract.Aliases["bluegreen_active"]);
        Assert.Equal(server.Contract.PointCount("bluegreen__v2"), server.Contract.PointCount("bluegreen_active"));
        Assert.NotEmpty(await qdrant.SearchAsync("bluegreen", "건강검진 금식", SearchModes.Hybrid, 3));
    }

    [Fact]
    public async Task A_collection_whose_sparse_vectors_another_analyzer_cut_answers_409_naming_both_analyzers_and_the_fix()
    {
        await using var server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        using var data = new TempDirectory();
        var dataDirectory = data.Path;
        // Written by a platform without word terms (as before they existed), then served by one with them.
        await using (var older = Platform.BigramsOnly(server.ConnectionString, dataDirectory))
        {
            await older.IngestAsync("older", SampleDocuments());
        }

        await using var current = new Platform(server.ConnectionString, dataDirectory);
        foreach (var mode in new[] { SearchModes.Lexical, SearchModes.Hybrid })
        {
            using var response = await current.PostSearchAsync("older", "주택담보대출 금리", mode, 3);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"{mode}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(409, problem.GetProperty("status").GetInt32());
            Assert.Equal("Conflict.", problem.GetProperty("title").GetString());
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.Contains("'ko-bigram/1'", detail, StringComparison.Ordinal);
            Assert.Contains("'ko-bigram/1+words/2'", detail, StringComparison.Ordinal);
            Assert.Contains("rag lexical rebuild --collection older", detail, StringComparison.Ordinal);
        }

        // Dense search does not read the terms: it still answers.
        Assert.NotEmpty(await current.SearchAsync("older", "주택담보대출 금리", SearchModes.Dense, 3));
    }

    [Fact]
    public async Task Rag_lexical_rebuild_recuts_a_Qdrant_collection_so_the_current_analyzer_searches_it_as_if_written_with_it()
    {
        await using var server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        using var data = new TempDirectory();
        var dataDirectory = data.Path;
        // Bigrams only, then re-indexed: the collection is served by the Qdrant collection older__v2.
        await using (var older = Platform.BigramsOnly(server.ConnectionString, dataDirectory))
        {
            await older.IngestAsync("older", SampleDocuments());
            Assert.Equal(2, await older.ReindexAsync("older", new { embedding = new { provider = "hashing", settings = new { Dimensions = "256" } } }));
        }

        string detail;
        await using (var current = new Platform(server.ConnectionString, dataDirectory))
        {
            using var refused = await current.PostSearchAsync("older", "주택담보대출 금리", SearchModes.Lexical, 5);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            detail = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        }

        // The error names the Qdrant collection that serves it; the command takes that name (services stopped).
        Assert.Contains("rag lexical rebuild --collection older__v2", detail, StringComparison.Ordinal);
        var root = new System.CommandLine.RootCommand { rag::RagPlatform.Cli.Commands.LexicalCommand.Create(["--ConnectionStrings:qdrant=" + server.ConnectionString]) };
        Assert.Equal(0, await root.Parse(["lexical", "rebuild", "--collection", "older__v2", "--data-dir", dataDirectory]).InvokeAsync());

        // Now it searches as the same documents written with word terms from the start (another server, same names).
        await using var freshServer = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        await using var fresh = new Platform(freshServer.ConnectionString);
        await fresh.IngestAsync("older", SampleDocuments());
        await using var rebuilt = new Platform(server.ConnectionString, dataDirectory);
        foreach (var query in Queries)
        {
            var expected = await fresh.SearchAsync("older", query, SearchModes.Lexical, 5);
            var actual = await rebuilt.SearchAsync("older", query, SearchModes.Lexical, 5);
            Assert.Equal(expected.Select(r => r.ChunkId), actual.Select(r => r.ChunkId));
            foreach (var (e, a) in expected.Zip(actual))
            {
                Assert.True(Math.Abs(e.Score - a.Score) <= 1e-4 * Math.Max(1, Math.Abs(e.Score)), $"'{query}': {e.Score} vs {a.Score}");
            }
        }

        Assert.NotEmpty(await rebuilt.SearchAsync("older", "주택담보대출 금리", SearchModes.Hybrid, 5));
        Assert.Equal("ko-bigram/1+words/2", server.Contract.Metadata("older__v2")[QdrantVectorBackend.AnalyzerKey].StringValue);
    }

    /// <summary>
    /// A measurement, not a test of this repository's code alone: hybrid search through the contract server against
    /// the embedded platform's hybrid search on AutoRAG-ko (720 pages, 114 questions), same top-1 document for how
    /// many questions. Runs only with <c>RAG_AUTORAG_KO</c> set to the dataset's folder (it is not in the repository):
    /// <c>RAG_AUTORAG_KO=$PWD/../shared/eval/autorag-ko dotnet test tests/RagPlatform.Plugins.Qdrant.Tests -c Release
    /// --filter AutoRagKo --logger "console;verbosity=detailed"</c>.
    /// </summary>
    [MeasurementFact("RAG_AUTORAG_KO")]
    public async Task AutoRagKoHybridThroughQdrantAgreesWithTheEmbeddedHybridOnTop1()
    {
        var folder = Environment.GetEnvironmentVariable("RAG_AUTORAG_KO")!;
        var documents = File.ReadLines(Path.Combine(folder, "corpus.jsonl")).Where(l => l.Length > 0).Select(line =>
        {
            var row = JsonDocument.Parse(line).RootElement;
            return (object)new { id = row.GetProperty("_id").GetString(), title = row.TryGetProperty("title", out var t) ? t.GetString() : null, text = row.GetProperty("text").GetString() };
        }).ToList();
        var queries = File.ReadLines(Path.Combine(folder, "queries.jsonl")).Where(l => l.Length > 0).Select(line =>
        {
            var row = JsonDocument.Parse(line).RootElement;
            return (Id: row.GetProperty("_id").GetString()!, Text: row.GetProperty("text").GetString()!);
        }).ToList();
        var relevant = File.ReadLines(Path.Combine(folder, "qrels", "test.tsv")).Skip(1).Select(l => l.Split('\t'))
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => p[1]).ToHashSet());

        await using var server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        await using var embedded = new Platform(null);
        await using var qdrant = new Platform(server.ConnectionString);
        var clock = Stopwatch.StartNew();
        await embedded.IngestAsync("autorag", documents);
        await qdrant.IngestAsync("autorag", documents);
        output.WriteLine($"ingested {documents.Count} pages into both in {clock.Elapsed.TotalSeconds:F1} s; {server.Contract.PointCount("autorag")} chunks in Qdrant");

        int same = 0, embeddedHits = 0, qdrantHits = 0;
        foreach (var (id, text) in queries)
        {
            var expected = (await embedded.SearchAsync("autorag", text, SearchModes.Hybrid, 1))[0].DocumentId;
            var actual = (await qdrant.SearchAsync("autorag", text, SearchModes.Hybrid, 1))[0].DocumentId;
            same += expected == actual ? 1 : 0;
            embeddedHits += relevant.GetValueOrDefault(id)?.Contains(expected) == true ? 1 : 0;
            qdrantHits += relevant.GetValueOrDefault(id)?.Contains(actual) == true ? 1 : 0;
        }

        var agreement = (double)same / queries.Count;
        var summary = JsonSerializer.Serialize(new
        {
            questions = queries.Count,
            sameTop1 = same,
            agreement = Math.Round(agreement, 4),
            recallAt1Embedded = Math.Round((double)embeddedHits / queries.Count, 4),
            recallAt1Qdrant = Math.Round((double)qdrantHits / queries.Count, 4),
        });
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(agreement >= 0.95, summary);
    }

    private static List<object> SampleDocuments()
    {
        var root = typeof(QdrantPlatformTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        var folder = Path.Combine(root, "samples", "korean");
        return [.. Directory.EnumerateFiles(folder, "*.md").Concat(Directory.EnumerateFiles(folder, "*.txt")).Order(StringComparer.Ordinal)
            .Select(file => (object)new { id = Path.GetFileNameWithoutExtension(file), title = Path.GetFileNameWithoutExtension(file), text = File.ReadAllText(file) })];
    }

    /// <summary>One standalone platform in this process: embedded backend, or qdrant at the given connection string.</summary>
    private sealed class Platform : WebApplicationFactory<Program>
    {
        private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
        private readonly string? _qdrant;
        private readonly Dictionary<string, string?> _settings;
        private readonly bool _ownsDataDirectory;
        private readonly HttpClient _client;

        /// <param name="dataDirectory">A data directory the caller owns (kept on dispose); null: a fresh one of its own.</param>
        /// <param name="settings">More host settings.</param>
        public Platform(string? qdrantConnectionString, string? dataDirectory = null, Dictionary<string, string?>? settings = null)
        {
            _qdrant = qdrantConnectionString;
            _settings = settings ?? [];
            _ownsDataDirectory = dataDirectory is null;
            DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "rag-qdrant-platform-" + Guid.NewGuid().ToString("N"));
            _client = CreateClient();
        }

        public string DataDirectory { get; }

        /// <summary>A platform whose lexical terms are syllable bigrams only, the analyzer before word terms existed:
        /// it writes collections the current analyzer must not read as its own.</summary>
        public static Platform BigramsOnly(string? qdrantConnectionString, string dataDirectory) =>
            new(qdrantConnectionString, dataDirectory, new() { ["RagPlatform:Lexical:WordTerms"] = "false" });

        public async Task IngestAsync(string collection, List<object> documents)
        {
            foreach (var batch in documents.Chunk(200))
            {
                using var response = await _client.PostAsJsonAsync($"/v1/collections/{collection}/documents", batch);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(Json))!;
                var deadline = DateTime.UtcNow.AddMinutes(5);
                while (true)
                {
                    var status = (await _client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{accepted.JobId}", Json))!;
                    if (JobStates.IsFinal(status.State))
                    {
                        Assert.True(status.Failed == 0, $"job {accepted.JobId}: {JsonSerializer.Serialize(status)}");
                        break;
                    }

                    Assert.True(DateTime.UtcNow < deadline, $"job {accepted.JobId} did not finish");
                    await Task.Delay(25);
                }
            }
        }

        /// <summary>Runs a blue/green re-index to its end and returns the version now active.</summary>
        public async Task<long> ReindexAsync(string collection, object request)
        {
            using var response = await _client.PostAsJsonAsync($"/v1/collections/{collection}/reindex", request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var accepted = (await response.Content.ReadFromJsonAsync<ReindexAccepted>(Json))!;
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var stats = (await _client.GetFromJsonAsync<CollectionStats>($"/v1/collections/{collection}", Json))!;
                if (stats.ActiveVersion == accepted.TargetVersion)
                {
                    return stats.ActiveVersion;
                }

                Assert.True(DateTime.UtcNow < deadline, $"the re-index of {collection} did not switch: {JsonSerializer.Serialize(stats)}");
                await Task.Delay(50);
            }
        }

        public Task<HttpResponseMessage> PostSearchAsync(string collection, string query, string mode, int topK) =>
            _client.PostAsJsonAsync($"/v1/collections/{collection}/search", new { query, mode, topK });

        public async Task<IReadOnlyList<SearchResult>> SearchAsync(string collection, string query, string mode, int topK)
        {
            using var response = await PostSearchAsync(collection, query, mode, topK);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
            builder.UseSetting("RagPlatform:Query:ResultCacheSeconds", "0");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            if (_qdrant is not null)
            {
                builder.UseSetting("RagPlatform:VectorStore:Backend", "qdrant");
                builder.UseSetting("ConnectionStrings:qdrant", _qdrant);
            }

            foreach (var (key, value) in _settings)
            {
                builder.UseSetting(key, value);
            }
        }

        protected override void Dispose(bool disposing)
        {
            _client.Dispose();
            base.Dispose(disposing);
            if (disposing && _ownsDataDirectory && Directory.Exists(DataDirectory))
            {
                try
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // A plugin still flushing; a temp folder left behind fails nothing.
                }
            }
        }
    }
}

/// <summary>A fact that runs only when the environment variable it names is set (a measurement on data the repository does not hold).</summary>
public sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute(string variable)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)))
        {
            Skip = $"a measurement: set {variable} to run it";
        }
    }
}
