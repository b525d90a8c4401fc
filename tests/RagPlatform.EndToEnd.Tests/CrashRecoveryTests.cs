using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;
using Xunit.Abstractions;

namespace RagPlatform.EndToEnd.Tests;

/// <summary>
/// The standalone host killed with SIGKILL at random moments while it ingests documents and files, deletes, re-indexes
/// and compacts its stores (thresholds at 4 KiB), then restarted on the same data directory, cycle after cycle. After each
/// restart: every job accepted before the kill ends (completed, or failed with a reason); every document whose last
/// operation was seen to complete is found with that version, every one seen deleted is not; and, with the host stopped,
/// the metadata, the vectors and the lexical index agree exactly (<see cref="StoreAgreement"/>).
/// <para>20 cycles by default; <c>RAG_CRASH_CYCLES=100</c> runs more. <c>RAG_CRASH_SEED</c> replays a run's choices (the
/// workload and the kill moments; the timing of the host under them can differ).</para>
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const string Collection = "crash";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, string> Environment_ = new()
    {
        // Nearly every write batch ends in a compaction, so the kills land in them too.
        ["RagPlatform__Lexical__CompactAfterLogBytes"] = "4096",
        ["RagPlatform__VectorStore__Backends__embedded__CompactAfterLogBytes"] = "4096",
        // Small chunks: several per document, so a new version keeps, drops and adds chunks.
        ["RagPlatform__Chunking__MaxTokens"] = "48",
        ["RagPlatform__Chunking__OverlapTokens"] = "8",
        // A switched re-index drops its old version at once.
        ["RagPlatform__VectorStore__RetiredVersionGraceSeconds"] = "0",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    [Fact]
    public async Task Kill_9_during_ingest_delete_reindex_and_compaction_loses_no_completed_document_and_leaves_the_stores_in_agreement()
    {
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("RAG_CRASH_CYCLES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 20;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAG_CRASH_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var random = new Random(seed);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rag-crash-" + Guid.NewGuid().ToString("N"));
        var model = new CrashModel();
        var clock = Stopwatch.StartNew();
        var moment = "the first start";
        var operations = 0;
        var (tornTails, lostJobs, orphanCleanups) = (0, 0, 0);
        PlatformProcess? host = null;
        try
        {
            host = await PlatformProcess.StartAsync(dataDirectory, Environment_);
            using (var client = host.CreateClient())
            {
                using var put = await client.PutAsJsonAsync($"/v1/collections/{Collection}", new { });
                put.EnsureSuccessStatusCode();
            }

            for (var cycle = 1; cycle <= cycles; cycle++)
            {
                var killAfterOperations = random.Next(1, 30);
                var killDelay = random.Next(0, 250);
                moment = $"cycle {cycle} of {cycles} (kill {killDelay} ms after operation {killAfterOperations} of the workload)";
                var workload = new CrashWorkload(host.Address, model, new Random(random.Next()), cycle, Collection, killAfterOperations);
                var phase = Stopwatch.StartNew();
                var traffic = workload.RunAsync();
                await workload.Busy;
                await Task.Delay(killDelay);
                await host.StopAsync(crash: true);
                await host.DisposeAsync();
                host = null;
                await traffic;
                operations += workload.Operations;
                var trafficSeconds = phase.Elapsed.TotalSeconds;
                phase.Restart();

                host = await PlatformProcess.StartAsync(dataDirectory, Environment_);
                var startSeconds = phase.Elapsed.TotalSeconds;
                phase.Restart();
                await CheckAfterRestartAsync(host, model, random);
                // What the restart found, from its log: appends the kill cut short, jobs it failed, orphans it removed.
                tornTails += Count(host.Output, "torn log tail");
                lostJobs += Count(host.Output, "queued documents were lost");
                orphanCleanups += Count(host.Output, "that the last run wrote but no chunk row names");

                // Every job is final and nothing else runs: the files are at rest. A copy of them is opened with the
                // stores' own classes (the live host holds the originals), so the next cycle goes on with this host.
                var copy = dataDirectory + "-check";
                CopyDirectory(dataDirectory, copy);
                try
                {
                    var problems = await StoreAgreement.ProblemsAsync(copy, Collection, model.SettledDocuments());
                    Assert.True(problems.Count == 0, "The stores disagree after the restart:\n" + string.Join("\n", problems));
                }
                finally
                {
                    Directory.Delete(copy, recursive: true);
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{moment}: {workload.Operations} operations in {trafficSeconds:F1} s, restart {startSeconds:F1} s, checks {phase.Elapsed.TotalSeconds:F1} s"));
            }

            // And once on the real files, with the host stopped.
            await host.StopAsync();
            await host.DisposeAsync();
            host = null;
            var final = await StoreAgreement.ProblemsAsync(dataDirectory, Collection, model.SettledDocuments());
            Assert.True(final.Count == 0, "The stores disagree after the last stop:\n" + string.Join("\n", final));

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{cycles} kill/restart cycles in {clock.Elapsed.TotalSeconds:F0} s (seed {seed}): {operations} operations, {model.Completed} document versions seen completed, {model.Deleted} deletes, {model.Reindexes} re-indexes started; the restarts cut {tornTails} torn log tails, failed the lost documents of {lostJobs} jobs and removed orphans {orphanCleanups} times; every check passed."));
        }
        catch (Exception e)
        {
            var log = host?.Output ?? "";
            throw new Xunit.Sdk.XunitException(
                $"Failed at {moment} in {dataDirectory} after {clock.Elapsed.TotalSeconds:F0} s; replay with RAG_CRASH_SEED={seed} RAG_CRASH_CYCLES={cycles}.\n{e}\n--- host output (tail) ---\n{log[Math.Max(0, log.Length - 4000)..]}");
        }
        finally
        {
            if (host is not null)
            {
                await host.StopAsync(crash: true);
                await host.DisposeAsync();
            }

            if (Directory.Exists(dataDirectory) && Environment.GetEnvironmentVariable("RAG_CRASH_KEEP") != "1")
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>
    /// Every job the workload saw accepted ends within a bound; then settled documents are checked through the public
    /// search API (lexical, by the token only its expected version carries): a sample of them here, all of them in the
    /// stopped host's lexical index by <see cref="StoreAgreement"/>.
    /// </summary>
    private static async Task CheckAfterRestartAsync(PlatformProcess host, CrashModel model, Random random)
    {
        using var client = host.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await CrashWorkload.PollAsync(client, model);
            var unfinished = model.Unfinished();
            if (unfinished.Count == 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"{unfinished.Count} jobs accepted before the kill never ended after the restart: {string.Join(", ", unfinished.Select(j => $"{j.Kind} {j.JobId}"))}");
            await Task.Delay(100);
        }

        var stats = await client.GetFromJsonAsync<CollectionStats>($"/v1/collections/{Collection}", Json);
        Assert.False(stats!.Reindex is { State: ReindexStates.Running }, $"The re-index of job {stats.Reindex?.JobId} still runs after the restart.");

        foreach (var document in model.SettledDocuments().OrderBy(_ => random.Next()).Take(40))
        {
            foreach (var token in document.Tokens)
            {
                var hits = await SearchAsync(client, token);
                var found = hits.Any(h => h.DocumentId == document.Id);
                if (token == document.Expected)
                {
                    Assert.True(found, $"Document {document.Id}: its completed version ({token}) is not found.");
                }
                else
                {
                    Assert.False(found, $"Document {document.Id}: {(document.Expected is null ? "deleted, but" : "at version " + document.Expected + ", but")} the text of {token} is still found.");
                }
            }
        }
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        // The vector store's .lock is held exclusively by the live host (and is only a lock).
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != ".lock"))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private static async Task<IReadOnlyList<SearchResult>> SearchAsync(HttpClient client, string token)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{Collection}/search", new { query = token, topK = 5, mode = SearchModes.Lexical });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results;
    }
}
