using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RagPlatform.Cli.Bench;
using RagPlatform.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench ingest</c>: end-to-end ingestion throughput (POST → chunk + hash → queue → embed → store) on a
/// fresh in-process platform, measured in chunks per second against the goal of 5,000.
/// </summary>
public static class BenchCommand
{
    public const double GoalChunksPerSecond = 5000;
    private const string Collection = "bench";
    private const string ProbeCollection = "bench-probe";

    private const int Seed = 20_251_121;

    public static Command Create(IReadOnlyList<string> settings)
    {
        var chunks = new Option<int>("--chunks")
        {
            Description = "Chunks to ingest (the corpus is sized to land near this)",
            HelpName = "N",
            DefaultValueFactory = _ => 100_000,
        };
        chunks.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 100)
            {
                r.AddError("--chunks must be at least 100.");
            }
        });
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "Data directory of the benchmark platform [default: a fresh temporary directory, deleted afterwards]",
            HelpName = "DIR",
        };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        var server = new Option<string?>("--server")
        {
            Description = "Also measure a running platform (e.g. the distributed topology's ingestion service, as the AppHost's dashboard lists it) " +
                "on the same documents, after the in-process anchor, and print its ratio to the embedded mode",
            HelpName = "URL",
        };
        var ingest = new Command("ingest", "Ingestion throughput on synthetic Korean documents, always on a fresh in-process platform. " +
            "Platform settings pass through as --Section:Key=value (e.g. --RagPlatform:Messaging:ConcurrentMessageLimit=8).")
        {
            chunks,
            dataDirectory,
            json,
            server,
        };
        ingest.SetAction((result, cancellationToken) => CommandRunner.RunAsync(() => RunAsync(
            result.GetValue(chunks),
            result.GetValue(dataDirectory),
            result.GetValue(json),
            ParseServer(result.GetValue(server)),
            settings,
            cancellationToken), cancellationToken));
        return new Command("bench", "Benchmarks")
        {
            ingest, BenchQueryCommand.Create(settings), BenchEmbedCommand.Create(settings), BenchRerankCommand.Create(settings),
            BenchBurstCommand.Create(settings), BenchParseCommand.Create(settings),
        };
    }

    private static async Task<int> RunAsync(
        int targetChunks, string? dataDirectory, bool json, Uri? server, IReadOnlyList<string> configuration, CancellationToken cancellationToken)
    {
        var temporary = dataDirectory is null;
        var directory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "rag-bench-" + Guid.NewGuid().ToString("N")[..12]);
        var log = json ? TextWriter.Null : Console.Out;
        Measurement anchor;
        try
        {
            await using var session = await PlatformSession.StartInProcessAsync(directory, configuration, cancellationToken);
            log.WriteLine($"in-process platform at {session.Server}, data in {Path.GetFullPath(directory)}{(temporary ? " (deleted afterwards)" : string.Empty)}, " +
                $"{Environment.ProcessorCount} CPUs");
            anchor = await MeasureAsync(session.Client, targetChunks, json && server is null, log, cancellationToken);
        }
        finally
        {
            if (temporary && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        if (server is null)
        {
            return anchor.ExitCode;
        }

        // The same documents (same seed, same count) against the running platform; the in-process run above is
        // the anchor, measured minutes apart on the same machine.
        using var client = PlatformSession.CreateClient(server, timeout: TimeSpan.FromMinutes(10));
        log.WriteLine($"running platform at {server}");
        var measured = await MeasureAsync(client, targetChunks, json: false, log, cancellationToken, print: false);
        var ratio = measured.ChunksPerSecond / anchor.ChunksPerSecond;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio vs embedded (in-process, same documents): {ratio:0.00} ({measured.ChunksPerSecond:0.0} vs {anchor.ChunksPerSecond:0.0} chunks/s)"));
        Console.WriteLine(new JsonObject
        {
            ["server"] = server.ToString(),
            ["chunks"] = measured.Chunks,
            ["chunksPerSecond"] = Math.Round(measured.ChunksPerSecond, 1),
            ["embeddedChunksPerSecond"] = Math.Round(anchor.ChunksPerSecond, 1),
            ["ratioVsEmbedded"] = Math.Round(ratio, 2),
            ["processors"] = Environment.ProcessorCount,
        }.ToJsonString(CliJson.Options));
        return Math.Max(anchor.ExitCode, measured.ExitCode);
    }

    private static Uri? ParseServer(string? value) =>
        value is null ? null
        : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
        : throw new UsageException($"--server must be an http(s) URL, e.g. http://127.0.0.1:5081 (got '{value}').");

    private sealed record Measurement(int ExitCode, long Chunks, double ChunksPerSecond);

    private static async Task<Measurement> MeasureAsync(
        RagPlatformClient client, int targetChunks, bool json, TextWriter log, CancellationToken cancellationToken, bool print = true)
    {
        // A reused --data-dir must not make documents "unchanged": start from empty collections.
        await DeleteIfPresentAsync(client, Collection, cancellationToken);
        await DeleteIfPresentAsync(client, ProbeCollection, cancellationToken);

        // Calibrate: how many chunks does a generated document make at this server's chunking? The probe also
        // warms the platform up (about a tenth of the run, enough messages to reach every worker), so the
        // measurement is of steady work rather than of JIT compilation in freshly started services.
        var probeDocuments = Math.Clamp(targetChunks / 100, 40, 1_000);
        var probe = BenchCorpus.Generate(new KoreanTextGenerator(Seed + 1), "probe", probeDocuments);
        var probeJob = await client.PostDocumentsAsync(ProbeCollection, probe, cancellationToken);
        var probeStatus = (await JobWaiter.WaitAsync(client, [probeJob.JobId], TimeSpan.FromMilliseconds(50), null, cancellationToken))[0];
        await client.DeleteCollectionAsync(ProbeCollection, cancellationToken);
        var chunksPerDocument = (double)(probeStatus.ChunksEmbedded + probeStatus.ChunksReused) / probeDocuments;
        if (probeStatus.State != JobStates.Completed || chunksPerDocument <= 0)
        {
            throw new CliException($"the calibration job ended {probeStatus.State} with {chunksPerDocument} chunks per document: " +
                string.Join("; ", probeStatus.Errors.Take(3).Select(e => $"{e.Id}: {e.Error}")));
        }

        var documentCount = (int)Math.Ceiling(targetChunks / chunksPerDocument);
        var generator = new KoreanTextGenerator(Seed);
        var generating = Stopwatch.StartNew();
        // Bodies are built before the clock starts: the benchmark measures the platform, not this client.
        var bodies = new List<byte[]>();
        for (var start = 0; start < documentCount; start += BenchCorpus.DocumentsPerRequest)
        {
            var batch = BenchCorpus.Generate(generator, "doc", Math.Min(BenchCorpus.DocumentsPerRequest, documentCount - start), start);
            bodies.Add(JsonSerializer.SerializeToUtf8Bytes(batch, CliJson.Options));
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calibration: {chunksPerDocument:0.00} chunks/document; generated {Terminal.Count(documentCount)} documents " +
            $"({bodies.Sum(b => (long)b.Length) / 1048576.0:0.0} MB of JSON in {bodies.Count} requests) in {generating.Elapsed.TotalSeconds:0.0} s"));

        var loadBefore = LoadAverage();
        var cpuStart = CpuTime();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var jobs = new List<Guid>();
        var slowestPost = TimeSpan.Zero;
        foreach (var body in bodies)
        {
            var posted = clock.Elapsed;
            jobs.Add((await client.PostDocumentsAsync(Collection, body, cancellationToken)).JobId);
            slowestPost = TimeSpan.FromTicks(Math.Max(slowestPost.Ticks, (clock.Elapsed - posted).Ticks));
        }

        var postSeconds = clock.Elapsed.TotalSeconds;
        var cpuAtPostEnd = CpuTime();
        var atPostEnd = await JobWaiter.SnapshotAsync(client, jobs, cancellationToken);
        var statuses = await JobWaiter.WaitAsync(client, jobs, TimeSpan.FromMilliseconds(100), null, cancellationToken);
        // The server stamps each job's completion; the last stamp is more precise than the polling interval.
        var seconds = statuses.All(s => s.CompletedAt is not null)
            ? (statuses.Max(s => s.CompletedAt!.Value) - started).TotalSeconds
            : clock.Elapsed.TotalSeconds;
        seconds = Math.Max(seconds, postSeconds);
        var cpuSeconds = (CpuTime() - cpuStart).TotalSeconds;
        var cpuPostSeconds = (cpuAtPostEnd - cpuStart).TotalSeconds;
        var loadAfter = LoadAverage();

        var chunks = statuses.Sum(s => s.ChunksEmbedded + s.ChunksReused);
        var failed = statuses.Sum(s => s.Failed);
        var unchanged = statuses.Sum(s => s.Unchanged);
        var chunksPerSecond = chunks / seconds;
        var ratio = chunksPerSecond / GoalChunksPerSecond;
        var embeddedWhilePosting = atPostEnd.Sum(s => s.ChunksEmbedded + s.ChunksReused);

        log.WriteLine($"chunks      {Terminal.Count(chunks),12}");
        log.WriteLine($"documents   {Terminal.Count(documentCount),12}");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seconds     {seconds,12:0.00}"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  posting   {postSeconds,12:0.00}   {bodies.Count} requests, slowest {slowestPost.TotalSeconds:0.00} s " +
            $"(chunking + hashing happen inside the POST); {embeddedWhilePosting * 100.0 / Math.Max(1, chunks):0}% of the chunks were embedded by then"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  waiting   {seconds - postSeconds,12:0.00}   for the embedding worker after the last POST"));
        // CPU time says whether the platform was busy or waiting, independently of what else ran on the machine.
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cpu         {cpuSeconds,12:0.00}   process CPU seconds ({cpuPostSeconds:0.00} while posting), " +
            $"{cpuSeconds / (seconds * Environment.ProcessorCount) * 100:0}% of {Environment.ProcessorCount} CPUs, " +
            $"{cpuSeconds * 1000 / Math.Max(1, chunks):0.000} ms per chunk"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chunks/s    {chunksPerSecond,12:0.0}"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio vs goal (5,000 chunks/s): {ratio:0.00}"));
        if (Math.Max(loadBefore ?? 0, loadAfter ?? 0) > Environment.ProcessorCount)
        {
            CommandRunner.Warn(string.Create(CultureInfo.InvariantCulture,
                $"the machine's load average was {loadBefore:0.0} before and {loadAfter:0.0} after the run on {Environment.ProcessorCount} CPUs: " +
                $"other processes competed for the CPUs, so the figure understates the platform."));
        }

        if (failed > 0 || unchanged > 0)
        {
            CommandRunner.Warn($"{failed} document(s) failed and {unchanged} were unchanged; the figure is not a clean measurement. " +
                string.Join("; ", statuses.SelectMany(s => s.Errors).Take(3).Select(e => $"{e.Id}: {e.Error}")));
        }

        var result = new JsonObject
        {
            ["chunks"] = chunks,
            ["seconds"] = Math.Round(seconds, 3),
            ["chunksPerSecond"] = Math.Round(chunksPerSecond, 1),
            ["goalChunksPerSecond"] = GoalChunksPerSecond,
            ["ratio"] = Math.Round(ratio, 2),
            ["documents"] = documentCount,
            ["postSeconds"] = Math.Round(postSeconds, 3),
            ["waitSeconds"] = Math.Round(seconds - postSeconds, 3),
            ["cpuSeconds"] = Math.Round(cpuSeconds, 3),
            ["processors"] = Environment.ProcessorCount,
        };
        if (print)
        {
            Console.WriteLine(result.ToJsonString(CliJson.Options));
        }

        return new Measurement(failed > 0 ? ExitCodes.Failure : ExitCodes.Ok, chunks, chunksPerSecond);
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>The 1-minute load average where the OS publishes it (Linux), else null.</summary>
    internal static double? LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static async Task DeleteIfPresentAsync(RagPlatformClient client, string collection, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteCollectionAsync(collection, cancellationToken);
        }
        catch (RagApiException ex) when (ex.Status == 404)
        {
            // Nothing to clear.
        }
    }
}
