using System.CommandLine;
using System.Text.Json;
using RagPlatform.Cli.Commands;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Vectors;
using RagPlatform.Contracts.Http;
using RagPlatform.Plugins.PgVector.Tests;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Tests;

/// <summary>
/// rag backup / restore / migrate / import llamacloud on a real data directory: the platform ingests in-process,
/// stops, the command runs on its stores, and the platform started again must answer searches as before.
/// </summary>
public sealed class VectorMaintenanceTests : IDisposable
{
    private const string Collection = "maint";
    private static readonly string[] Queries = ["건강검진 전날 금식", "주택담보대출 금리", "한강 서울", "해운대 해수욕장"];
    private readonly TempDirectory _directory = new();

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Backup_then_drop_then_restore_gives_identical_search_results_in_every_mode()
    {
        await IngestAsync([]);
        var before = await SearchAllModesAsync([]);
        var snapshot = Path.Combine(_directory.Path, "maint.snapshot.gz");

        Assert.Equal(0, await RunAsync(BackupCommand.CreateBackup([]), "--collection", Collection, "--out", snapshot, "--data-dir", DataDirectory));
        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None))
        {
            await platform.Collections.DeleteAsync(Collection, CancellationToken.None);
        }

        Assert.NotEqual(0, await RunAsync(BackupCommand.CreateBackup([]), "--collection", Collection, "--out", snapshot + ".x", "--data-dir", DataDirectory));
        Assert.Equal(0, await RunAsync(BackupCommand.CreateRestore([]), "--in", snapshot, "--data-dir", DataDirectory));

        Assert.Equal(before, await SearchAllModesAsync([]));
        await using var session = await PlatformSession.StartInProcessAsync(DataDirectory, [], CancellationToken.None);
        var again = await new IngestRun(session.Client, Collection, 10, showProgress: false).RunAsync(Documents(), wait: true, CancellationToken.None);
        Assert.Equal(Documents().Count, again.Unchanged);
    }

    [Fact]
    public async Task A_lost_lexical_index_rebuilt_from_the_vectors_gives_identical_search_results_in_every_mode()
    {
        await IngestAsync([]);
        var before = await SearchAllModesAsync([]);
        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None))
        {
            await platform.Lexical.DeleteCollectionAsync(Collection, CancellationToken.None);
        }

        Assert.NotEqual(before, await SearchAllModesAsync([]));
        Assert.Equal(0, await RunAsync(LexicalCommand.Create([]), "rebuild", "--collection", Collection, "--data-dir", DataDirectory));

        Assert.Equal(before, await SearchAllModesAsync([]));
    }

    [Fact]
    public async Task Reindex_command_switches_the_collection_to_the_new_model_and_searches_keep_their_answers()
    {
        await IngestAsync([]);

        Assert.Equal(0, await RunAsync(ReindexCommand.Create([]),
            "--collection", Collection, "--provider", "hashing", "--setting", "Dimensions=256", "--data-dir", DataDirectory, "--json"));

        await using var session = await PlatformSession.StartInProcessAsync(DataDirectory, [], CancellationToken.None);
        var stats = await session.Client.GetCollectionAsync(Collection, CancellationToken.None);
        Assert.Equal((2, Collection + "__v2", (long)Documents().Count), (stats.ActiveVersion, stats.VectorCollection, stats.Documents));
        Assert.Contains("dim=256;", stats.ModelFingerprint, StringComparison.Ordinal);
        var found = await session.Client.SearchAsync(Collection, new SearchRequest("건강검진 전날 금식", 3, SearchModes.Dense, null, null), CancellationToken.None);
        Assert.Equal("checkup", found.Results[0].DocumentId);
    }

    [Fact]
    public async Task Restore_refuses_a_damaged_snapshot_and_writes_nothing()
    {
        await IngestAsync([]);
        var snapshot = Path.Combine(_directory.Path, "maint.snapshot.gz");
        Assert.Equal(0, await RunAsync(BackupCommand.CreateBackup([]), "--collection", Collection, "--out", snapshot, "--data-dir", DataDirectory));
        var bytes = await File.ReadAllBytesAsync(snapshot);
        var truncated = Path.Combine(_directory.Path, "truncated.snapshot.gz");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);

        Assert.Equal(ExitCodes.Failure, await RunAsync(BackupCommand.CreateRestore([]), "--in", truncated, "--collection", "copy", "--data-dir", DataDirectory));

        await using var platform = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None);
        Assert.Null(await platform.Store.GetCollectionAsync("copy", CancellationToken.None));
    }

    [Fact]
    public async Task Migrate_to_pgvector_resumes_after_an_interruption_verifies_and_switches_the_collection()
    {
        await IngestAsync([]);
        var before = await SearchAllModesAsync([]);
        await using var server = await PgLiteServer.StartAsync();
        string[] pgSettings = ["--RagPlatform:VectorStore:Backends:pgvector:ConnectionString=" + server.ConnectionString];
        var checkpoint = Path.Combine(_directory.Path, "migrate.json");

        // First run: stopped after one batch of two points (of five), as an interrupted run would be.
        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, pgSettings, CancellationToken.None))
        {
            var interrupted = await new VectorMigration(
                await platform.OpenBackendAsync(new BackendSelection("embedded", new Dictionary<string, string>()), default),
                await platform.OpenBackendAsync(new BackendSelection("pgvector", new Dictionary<string, string>()), default),
                new MigrationOptions(Collection, "embedded", "pgvector", checkpoint, BatchSize: 2, MaxPoints: 2),
                TextWriter.Null).RunAsync(CancellationToken.None);
            Assert.False(interrupted.Completed);
            Assert.Equal(2, interrupted.Copied);
            Assert.True(File.Exists(checkpoint));
        }

        // Second run, through the command: resumes from the checkpoint, verifies, and switches the collection.
        Assert.Equal(0, await RunAsync(MigrateCommand.Create(pgSettings),
            "--collection", Collection, "--from", "embedded", "--to", "pgvector", "--checkpoint", checkpoint, "--batch-size", "2",
            "--switch", "--data-dir", DataDirectory, "--json"));
        Assert.False(File.Exists(checkpoint));

        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, pgSettings, CancellationToken.None))
        {
            Assert.Equal("pgvector", (await platform.Store.GetCollectionAsync(Collection, CancellationToken.None))!.Settings.VectorBackend);
            var embedded = await platform.OpenBackendAsync(new BackendSelection("embedded", new Dictionary<string, string>()), default);
            var pg = await platform.OpenBackendAsync(new BackendSelection("pgvector", new Dictionary<string, string>()), default);
            Assert.Equal(await embedded.CountAsync(Collection, null, CancellationToken.None), await pg.CountAsync(Collection, null, CancellationToken.None));

            // A second, complete run over the same stores resumes nothing and verifies every sample.
            var report = await new VectorMigration(embedded, pg, new MigrationOptions(Collection, "embedded", "pgvector", checkpoint), TextWriter.Null)
                .RunAsync(CancellationToken.None);
            Assert.True(report.Verified);
            Assert.Equal(report.Samples, report.SamplesIdentical);
        }

        // The platform now serves the collection from pgvector with the same answers. Scores agree to 1e-4 (each
        // backend rounds float32 its own way); among these five short documents a query shares nothing with several,
        // which then tie at score 0 in any order — so dense hits are compared above 0, and hybrid (ranks fused) by its top hit.
        var after = await SearchAllModesAsync(pgSettings);
        foreach (var (expected, actual) in before.Zip(after))
        {
            if (expected.StartsWith(SearchModes.Dense, StringComparison.Ordinal))
            {
                var (expectedHits, actualHits) = (Positive(expected), Positive(actual));
                Assert.Equal(expectedHits.Select(h => h.Id), actualHits.Select(h => h.Id));
                Assert.All(expectedHits.Zip(actualHits), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 0.0001));
            }
            else if (expected.StartsWith(SearchModes.Lexical, StringComparison.Ordinal))
            {
                Assert.Equal(expected, actual);
            }
            else
            {
                Assert.Equal(Hits(expected)[0].Id, Hits(actual)[0].Id);
            }
        }
    }

    [Fact]
    public async Task Import_llamacloud_export_with_foreign_vectors_re_embeds_every_node_and_keeps_its_documents()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llamacloud-export.json");

        Assert.Equal(0, await RunAsync(ImportCommand.Create([]), "llamacloud", fixture, "--collection", "welno", "--data-dir", DataDirectory));

        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None))
        {
            var collection = await platform.Collections.ResolveAsync("welno", CancellationToken.None);
            Assert.Equal(3, await collection.Backend.CountAsync("welno", null, CancellationToken.None));
            var counts = await platform.Store.GetCountsAsync("welno", CancellationToken.None);
            Assert.Equal(2, counts.Documents);
            Assert.Equal(3, counts.Chunks);
            var health = await collection.Backend.CountAsync("welno", new VectorFilter(["checkup"], PointPayload.NoMetadata), CancellationToken.None);
            Assert.Equal(2, health);
        }

        await using var session = await PlatformSession.StartInProcessAsync(DataDirectory, [], CancellationToken.None);
        var dense = await session.Client.SearchAsync("welno", new SearchRequest("건강검진 전날 금식", 1, SearchModes.Dense, null, null), CancellationToken.None);
        Assert.Equal("checkup-guide", dense.Results[0].DocumentId);
        Assert.Equal("checkup-guide.pdf", dense.Results[0].Title);
        var lexical = await session.Client.SearchAsync("welno", new SearchRequest("주택담보대출", 1, SearchModes.Lexical, null, null), CancellationToken.None);
        Assert.Equal("loan-rates", lexical.Results[0].DocumentId);
        Assert.Equal(2026, lexical.Results[0].Metadata!["year"].GetInt32());
    }

    [Fact]
    public async Task Import_llamacloud_export_declaring_the_collection_model_keeps_its_vectors()
    {
        float[][] vectors;
        string fingerprint;
        string[] texts = ["서울은 대한민국의 수도입니다.", "부산은 항구 도시다."];
        await using (var platform = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None))
        {
            var provider = await platform.Plugins.GetEmbeddingProviderAsync(new EmbeddingSelection("hashing", new Dictionary<string, string?>()), default);
            fingerprint = provider.Fingerprint.ToString();
            vectors = [.. (await provider.EmbedAsync(texts, EmbeddingPurpose.Document, CancellationToken.None)).Select(r => r.Vector!)];
        }

        // Each node carries the other's vector, so a re-embedding would show.
        var export = new
        {
            fingerprint,
            nodes = texts.Select((t, i) => new { id_ = "n" + i, text = t, metadata = new { file_name = "city" + i }, embedding = vectors[1 - i] }),
        };
        var file = _directory.Write("export.json", JsonSerializer.Serialize(export));

        Assert.Equal(0, await RunAsync(ImportCommand.Create([]), "llamacloud", file, "--collection", "cities", "--data-dir", DataDirectory));

        await using var check = await OfflinePlatform.OpenAsync(DataDirectory, [], CancellationToken.None);
        var collection = await check.Collections.ResolveAsync("cities", CancellationToken.None);
        var stored = new List<VectorPoint>();
        await foreach (var point in collection.Backend.ExportAsync("cities", CancellationToken.None))
        {
            stored.Add(point);
        }

        // The embedded backend may renormalise: equal up to float rounding, not bit for bit.
        Assert.All(stored.Single(p => p.Payload.DocumentId == "city0").Vector.Zip(vectors[1]), pair => Assert.Equal(pair.Second, pair.First, 5));
        Assert.All(stored.Single(p => p.Payload.DocumentId == "city1").Vector.Zip(vectors[0]), pair => Assert.Equal(pair.Second, pair.First, 5));
    }

    private static List<SourceItem> Documents() =>
    [
        SourceItem.Of(new DocumentInput("checkup", "건강검진 안내", "건강검진 전날에는 저녁 9시 이후 금식합니다. 물은 조금 마셔도 됩니다. 위내시경 후 한 시간 금식.", ["health"], null), "checkup.md"),
        SourceItem.Of(new DocumentInput("loan", "대출 금리 안내", "주택담보대출 금리는 매월 은행이 고시합니다. 변동 금리와 고정 금리를 비교하세요.", ["finance"], null), "loan.md"),
        SourceItem.Of(new DocumentInput("seoul", "서울", "서울은 대한민국의 수도입니다. 한강이 도시를 가로지릅니다.", ["city"], null), "seoul.md"),
        SourceItem.Of(new DocumentInput("busan", "부산", "부산은 항구 도시다. 해운대 해수욕장이 유명하다. 광안대교 야경도 아름답다.", ["city"], null), "busan.md"),
        SourceItem.Of(new DocumentInput("jeju", "제주", "제주도는 화산섬이다. 한라산과 오름, 바다가 어우러진다.", ["city"], null), "jeju.md"),
    ];

    private async Task IngestAsync(IReadOnlyList<string> settings)
    {
        await using var session = await PlatformSession.StartInProcessAsync(DataDirectory, settings, CancellationToken.None);
        var summary = await new IngestRun(session.Client, Collection, 10, showProgress: false).RunAsync(Documents(), wait: true, CancellationToken.None);
        Assert.Equal(Documents().Count, summary.Succeeded);
    }

    /// <summary>Every query in every mode, as (mode, query, ids and scores) lines, from a platform started on the data directory.</summary>
    private async Task<List<string>> SearchAllModesAsync(IReadOnlyList<string> settings)
    {
        await using var session = await PlatformSession.StartInProcessAsync(
            DataDirectory, [.. settings, "--RagPlatform:Query:ResultCacheSeconds=0"], CancellationToken.None);
        var lines = new List<string>();
        foreach (var mode in new[] { SearchModes.Dense, SearchModes.Lexical, SearchModes.Hybrid })
        {
            foreach (var query in Queries)
            {
                var response = await session.Client.SearchAsync(Collection, new SearchRequest(query, 5, mode, null, null), CancellationToken.None);
                lines.Add($"{mode} {query}: " + string.Join(", ", response.Results.Select(r => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{r.ChunkId}={r.Score:0.000000}"))));
            }
        }

        return lines;
    }

    private static List<(string Id, double Score)> Hits(string line) =>
        [.. line[(line.IndexOf(':', StringComparison.Ordinal) + 2)..].Split(", ")
            .Select(hit => (hit.Split('=')[0], double.Parse(hit.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture)))];

    private static List<(string Id, double Score)> Positive(string line) => [.. Hits(line).Where(h => h.Score > 1e-3)];

    private static Task<int> RunAsync(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        return root.Parse([command.Name, .. args]).InvokeAsync();
    }
}
