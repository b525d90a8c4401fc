using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RagPlatform.Cli.Bench;
using RagPlatform.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Security;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench burst</c>: what one client's flood does to everyone else. An in-process platform with API keys
/// and a per-client request limit; a "noisy" key spends its allowance and then bursts far over it while a
/// "calm" key keeps searching. Prints how the burst was answered (429 with Retry-After, nothing else) and the
/// calm key's latency during the burst beside its latency before it, as a ratio.
/// </summary>
public static class BenchBurstCommand
{
    private const string Collection = "bench-burst";
    private const int Seed = 20_261_121;
    private const int WarmUpSearches = 20;
    private const int AllowanceConcurrency = 8;

    public static Command Create(IReadOnlyList<string> settings)
    {
        var documents = new Option<int>("--documents") { Description = "Documents in the searched collection (about ten chunks each)", HelpName = "N", DefaultValueFactory = _ => 2_000 };
        var burst = new Option<int>("--burst") { Description = "Requests the noisy key sends over its limit", HelpName = "N", DefaultValueFactory = _ => 1_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent requests of the burst", HelpName = "N", DefaultValueFactory = _ => 64 };
        var limit = new Option<int>("--limit") { Description = "Requests per client per window (RateLimits:RequestsPerWindow)", HelpName = "N", DefaultValueFactory = _ => 1_000 };
        var samples = new Option<int>("--samples") { Description = "Calm-key searches measured before the burst", HelpName = "N", DefaultValueFactory = _ => 200 };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        VectorCommandOptions.AtLeastOne(documents, burst, concurrency, limit, samples);

        var command = new Command("burst", "Per-key rate limits under a burst: a noisy key floods over its limit while a calm key " +
            "searches; prints the 429s and the calm key's p50/p99 during the burst against before it. Platform settings pass through as --Section:Key=value.")
        {
            documents, burst, concurrency, limit, samples, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var run = new BurstRun(result.GetValue(documents), result.GetValue(burst), result.GetValue(concurrency), result.GetValue(limit), result.GetValue(samples));
            // The calm key must stay inside its own allowance for the whole run, or its refusals would be measured.
            if (run.Limit < WarmUpSearches + (2 * run.Samples))
            {
                throw new UsageException($"--limit must be at least {WarmUpSearches} + 2 × --samples, so the calm key stays under its own limit.");
            }

            var log = result.GetValue(json) ? TextWriter.Null : Console.Out;
            var directory = Path.Combine(Path.GetTempPath(), "rag-bench-burst-" + Guid.NewGuid().ToString("N")[..12]);
            var keys = new BenchKeys();
            try
            {
                // The window outlasts the run, so every count below is exact rather than depending on when a window turns over.
                string[] security =
                [
                    .. keys.ConfigurationArguments(),
                    $"--{SecurityOptions.SectionName}:RateLimits:RequestsPerWindow={run.Limit.ToString(CultureInfo.InvariantCulture)}",
                    $"--{SecurityOptions.SectionName}:RateLimits:WindowSeconds=86400",
                ];
                await using var session = await PlatformSession.StartInProcessAsync(directory, [.. BenchCorpus.NoCaches, .. security, .. settings], cancellationToken);
                log.WriteLine($"in-process platform at {session.Server}, {Environment.ProcessorCount} CPUs; caches off; " +
                    $"limit {run.Limit} requests per client per window");
                return await MeasureAsync(session.Server, keys, run, log, cancellationToken);
            }
            finally
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }, cancellationToken));
        return command;
    }

    private sealed record BurstRun(int Documents, int Burst, int Concurrency, int Limit, int Samples);

    /// <summary>Three fresh keys for the run: admin (to ingest), noisy and calm (query).</summary>
    private sealed class BenchKeys
    {
        public (string Key, ApiKeyOptions Entry) Admin { get; } = Make("bench-admin", RagScopes.Admin);

        public (string Key, ApiKeyOptions Entry) Noisy { get; } = Make("bench-noisy", RagScopes.Query);

        public (string Key, ApiKeyOptions Entry) Calm { get; } = Make("bench-calm", RagScopes.Query);

        public IEnumerable<string> ConfigurationArguments()
        {
            var entries = new[] { Admin.Entry, Noisy.Entry, Calm.Entry };
            for (var i = 0; i < entries.Length; i++)
            {
                var prefix = $"--{SecurityOptions.SectionName}:Keys:{i.ToString(CultureInfo.InvariantCulture)}:";
                yield return prefix + "Id=" + entries[i].Id;
                yield return prefix + "Client=" + entries[i].Client;
                yield return prefix + "Hash=" + entries[i].Hash;
                yield return prefix + "Scopes:0=" + entries[i].Scopes[0];
            }
        }

        private static (string, ApiKeyOptions) Make(string client, string scope)
        {
            var (key, id, hash) = ApiKeys.Create();
            return (key, new ApiKeyOptions { Id = id, Client = client, Hash = hash, Scopes = [scope] });
        }
    }

    private static async Task<int> MeasureAsync(Uri server, BenchKeys keys, BurstRun run, TextWriter log, CancellationToken cancellationToken)
    {
        using var admin = Client(server, keys.Admin.Key);
        using var noisy = Client(server, keys.Noisy.Key);
        using var calm = Client(server, keys.Calm.Key);
        var generator = new KoreanTextGenerator(Seed);
        if ((await BenchCorpus.IngestAsync(admin, Collection, generator, run.Documents, log, cancellationToken)).Failed)
        {
            throw new CliException("ingesting the benchmark corpus failed; see the job's item errors.");
        }

        var queries = Enumerable.Range(0, 256).Select(_ => generator.Title()).ToArray();
        var failures = new List<string>();

        for (var i = 0; i < WarmUpSearches; i++)
        {
            await SearchExpectingOkAsync(calm, queries[i % queries.Length], null, failures, cancellationToken);
        }

        var before = new LatencySample();
        for (var i = 0; i < run.Samples; i++)
        {
            await SearchExpectingOkAsync(calm, queries[i % queries.Length], before, failures, cancellationToken);
        }

        // The noisy key first spends its whole allowance (all answered), so every request of the burst is over the limit.
        var allowance = new StatusTally();
        await FloodAsync(noisy, queries, run.Limit, AllowanceConcurrency, allowance, cancellationToken);

        var during = new LatencySample();
        var burst = new StatusTally();
        var clock = Stopwatch.StartNew();
        var flood = FloodAsync(noisy, queries, run.Burst, run.Concurrency, burst, cancellationToken);
        var calmBudget = run.Limit - WarmUpSearches - run.Samples;
        for (var i = 0; !flood.IsCompleted && during.Count < calmBudget; i++)
        {
            await SearchExpectingOkAsync(calm, queries[i % queries.Length], during, failures, cancellationToken);
        }

        await flood;
        var burstSeconds = clock.Elapsed.TotalSeconds;

        var refusedRight = burst.Count(HttpStatusCode.TooManyRequests, withRetryAfter: true);
        if (allowance.Count(HttpStatusCode.OK) != run.Limit)
        {
            failures.Add($"the noisy key's allowance: {allowance.Describe()} (expected {run.Limit} × 200)");
        }

        if (refusedRight != run.Burst)
        {
            failures.Add($"the burst: {burst.Describe()} (expected {run.Burst} × 429 with Retry-After)");
        }

        var ratioP50 = during.Percentile(0.50) / before.Percentile(0.50);
        var ratioP99 = during.Percentile(0.99) / before.Percentile(0.99);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"noisy key: allowance {allowance.Describe()}; burst of {run.Burst} at {run.Concurrency} concurrent in {burstSeconds:0.00} s: {burst.Describe()}"));
        log.WriteLine($"calm key before the burst: {before.Describe()}");
        log.WriteLine($"calm key during the burst: {during.Describe()}");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calm key latency during / before: p50 {ratioP50:0.00}×, p99 {ratioP99:0.00}× (1.00× = unaffected; client and server share this machine's CPUs)"));
        foreach (var failure in failures)
        {
            log.WriteLine("FAILED: " + failure);
        }

        Console.WriteLine(new JsonObject
        {
            ["limit"] = run.Limit,
            ["burst"] = run.Burst,
            ["concurrency"] = run.Concurrency,
            ["burstSeconds"] = Math.Round(burstSeconds, 3),
            ["burstRefusedWithRetryAfter"] = refusedRight,
            ["burstStatuses"] = burst.Json(),
            ["calmBefore"] = before.Json(),
            ["calmDuring"] = during.Json(),
            ["calmP50Ratio"] = double.IsFinite(ratioP50) ? Math.Round(ratioP50, 2) : null,
            ["calmP99Ratio"] = double.IsFinite(ratioP99) ? Math.Round(ratioP99, 2) : null,
            ["failures"] = new JsonArray([.. failures.Select(f => (JsonNode)f)]),
        }.ToJsonString(CliJson.Options));
        return failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static async Task FloodAsync(RagPlatformClient client, string[] queries, int count, int concurrency, StatusTally tally, CancellationToken cancellationToken)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                tally.Add(await SearchAsync(client, queries[i % queries.Length], cancellationToken));
            }
        }, cancellationToken)));
    }

    private static async Task SearchExpectingOkAsync(RagPlatformClient client, string query, LatencySample? sample, List<string> failures, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (status, _) = await SearchAsync(client, query, cancellationToken);
        sample?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (status != HttpStatusCode.OK)
        {
            lock (failures)
            {
                failures.Add($"the calm key got {(int)status} for a search");
            }
        }
    }

    /// <summary>One search's status and Retry-After: a refusal is what this benchmark counts, so it is not an error here.</summary>
    private static async Task<(HttpStatusCode Status, TimeSpan? RetryAfter)> SearchAsync(RagPlatformClient client, string query, CancellationToken cancellationToken)
    {
        try
        {
            await client.SearchAsync(Collection, new SearchRequest(query, 10, SearchModes.Hybrid, null, null), cancellationToken);
            return (HttpStatusCode.OK, null);
        }
        catch (RagApiException ex)
        {
            return ((HttpStatusCode)ex.Status, ex.RetryAfter);
        }
    }

    /// <summary>A client of one key that never retries: every refusal must reach the tally.</summary>
    private static RagPlatformClient Client(Uri server, string key) =>
        PlatformSession.CreateClient(server, key, TimeSpan.FromMinutes(10), maxRetries: 0);

    /// <summary>Responses by status, and how many 429s carried a Retry-After.</summary>
    private sealed class StatusTally
    {
        private readonly Dictionary<int, int> _byStatus = [];
        private int _retryAfter;

        public void Add((HttpStatusCode Status, TimeSpan? RetryAfter) response)
        {
            lock (_byStatus)
            {
                var status = (int)response.Status;
                _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
                if (response.Status == HttpStatusCode.TooManyRequests && response.RetryAfter > TimeSpan.Zero)
                {
                    _retryAfter++;
                }
            }
        }

        public int Count(HttpStatusCode status, bool withRetryAfter = false)
        {
            lock (_byStatus)
            {
                return withRetryAfter && status == HttpStatusCode.TooManyRequests ? _retryAfter : _byStatus.GetValueOrDefault((int)status);
            }
        }

        public string Describe()
        {
            lock (_byStatus)
            {
                return string.Join(", ", _byStatus.OrderBy(p => p.Key).Select(p => $"{p.Value} × {p.Key}")) +
                    (_retryAfter > 0 ? $" ({_retryAfter} with Retry-After)" : string.Empty);
            }
        }

        public JsonObject Json()
        {
            lock (_byStatus)
            {
                var json = new JsonObject();
                foreach (var (status, count) in _byStatus.OrderBy(p => p.Key))
                {
                    json[status.ToString(CultureInfo.InvariantCulture)] = count;
                }

                return json;
            }
        }
    }
}
