using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Distributed.Tests;

/// <summary>
/// The distributed topology as scripts/dev-up.sh brings it up (RabbitMQ, Redis, PostgreSQL when its script is
/// there; the query API, the ingestion service and two embedding workers as separate processes), in a temporary
/// state directory; disposed by scripts/dev-down.sh, which stops every process by its PID.
/// </summary>
public sealed class DistributedStack : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(6);

    public string State { get; } = Path.Combine(Path.GetTempPath(), "rag-dist-" + Guid.NewGuid().ToString("N")[..12]);

    public static string RepoRoot => Metadata("RepoRoot");

    public HttpClient Ingestion { get; private set; } = null!;

    public HttpClient Query { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Urls { get; private set; } = new Dictionary<string, string>();

    public int RedisPort => int.Parse(Urls["REDIS"].Split(':')[1]);

    public async Task InitializeAsync()
    {
        try
        {
            await RunScriptAsync("scripts/dev-up.sh", State);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        Urls = File.ReadAllLines(Path.Combine(State, "urls.env"))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Ingestion = new HttpClient { BaseAddress = new Uri(Urls["INGESTION_URL"]), Timeout = TimeSpan.FromMinutes(3) };
        Query = new HttpClient { BaseAddress = new Uri(Urls["QUERY_URL"]), Timeout = TimeSpan.FromMinutes(3) };
    }

    public async Task DisposeAsync()
    {
        Ingestion?.Dispose();
        Query?.Dispose();
        await RunScriptAsync("scripts/dev-down.sh", State);
        try
        {
            Directory.Delete(State, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public Task StartServiceAsync(string name) => RunScriptAsync("scripts/dev-service.sh", "start", State, name);

    public Task StopServerAsync(string server) => RunScriptAsync($"scripts/servers/{server}.sh", "stop", Path.Combine(State, "servers"));

    public Task StartServerAsync(string server) => RunScriptAsync($"scripts/servers/{server}.sh", "start", Path.Combine(State, "servers"));

    public int ServicePid(string name) => int.Parse(File.ReadAllText(Path.Combine(State, "services", name + ".pid")).Trim());

    public string ServiceLog(string name) => File.ReadAllText(Path.Combine(State, "services", name + ".log"));

    /// <summary>SIGKILL, no shutdown: what a crashed or OOM-killed worker looks like to the broker.</summary>
    public void KillService(string name)
    {
        using var process = Process.GetProcessById(ServicePid(name));
        process.Kill();
        process.WaitForExit(10_000);
    }

    public async Task<JobAccepted> PostDocumentsAsync(string collection, IReadOnlyList<DocumentInput> documents)
    {
        using var response = await Ingestion.PostAsJsonAsync($"/v1/collections/{collection}/documents", documents, Json);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JobAccepted>(Json))!;
    }

    public async Task<JobStatus> GetJobAsync(Guid jobId) => (await Ingestion.GetFromJsonAsync<JobStatus>($"/v1/jobs/{jobId}", Json))!;

    /// <summary>Polls the job until it has no more pending items; bounded.</summary>
    public async Task<JobStatus> WaitForJobAsync(Guid jobId, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(5));
        while (true)
        {
            var job = await GetJobAsync(jobId);
            if (job.State is not ("queued" or "running"))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} still {job.State} ({job.Processed}/{job.Total}) after the time limit");
            await Task.Delay(200);
        }
    }

    public async Task<CollectionStats> GetCollectionAsync(string collection) =>
        (await Ingestion.GetFromJsonAsync<CollectionStats>($"/v1/collections/{collection}", Json))!;

    /// <summary>How many points the vector store itself holds (asked of the index owner, not of the metadata).</summary>
    public async Task<long> CountVectorsAsync(string collection)
    {
        using var response = await Query.PostAsJsonAsync($"/internal/index/vectors/embedded/{collection}/count", new { filter = (object?)null }, Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("count").GetInt64();
    }

    /// <summary>The sum of a Prometheus counter's samples whose labels contain <paramref name="label"/>.</summary>
    public async Task<double> ReadCounterAsync(string serviceUrlKey, string metric, string label)
    {
        using var client = new HttpClient { BaseAddress = new Uri(Urls[serviceUrlKey]) };
        var text = await client.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task<SearchResponse> SearchAsync(string collection, string query, string mode = "hybrid")
    {
        using var response = await Query.PostAsJsonAsync($"/v1/collections/{collection}/search", new { query, topK = 5, mode }, Json);
        Assert.True(response.IsSuccessStatusCode, $"search answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
    }

    /// <summary>The embedding workers' queue (MassTransit's kebab-case endpoint name) and its poison queue.</summary>
    public const string EmbedQueue = "embed-documents";

    public const string EmbedErrorQueue = EmbedQueue + "_error";

    /// <summary>Messages ready in a queue, 0 when the queue does not exist (yet).</summary>
    public async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    /// <summary>Publishes bytes as they are to a MassTransit endpoint's exchange (same name as its queue), persistent.</summary>
    public async Task PublishRawAsync(string endpoint, string contentType, byte[] body)
    {
        await using var connection = await Broker().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new RabbitMQ.Client.BasicProperties { ContentType = contentType, Persistent = true, MessageId = Guid.NewGuid().ToString() };
        await channel.BasicPublishAsync(endpoint, "", mandatory: true, properties, body);
    }

    private RabbitMQ.Client.ConnectionFactory Broker() => new() { Uri = new Uri(Urls["RABBITMQ"]) };

    public async Task<string> RedisAsync(params string[] arguments) =>
        (await RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", RedisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments], check: false)).Trim();

    private static string Metadata(string key) =>
        typeof(DistributedStack).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static Task<string> RunScriptAsync(string script, params string[] arguments) =>
        RunAsync(Path.Combine(RepoRoot, script), arguments, check: true);

    private static async Task<string> RunAsync(string file, string[] arguments, bool check)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test project built the services; dev-up must start exactly those outputs.
        start.Environment["RAG_NO_BUILD"] = "1";
        start.Environment["RAG_CONFIGURATION"] = Metadata("BuildConfiguration");
        start.Environment["RAG_WORKERS"] = "2";
        // The services inherit this environment (dev-service.sh adds their env file to it). Embedding messages of
        // 64 chunks make a 5,000-chunk job progress message by message, so the fault tests strike mid-ingestion;
        // at the default 512 it is ten messages that both workers run at once and finish within one poll.
        start.Environment["RagPlatform__Ingestion__MaxChunksPerMessage"] = "64";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in {ScriptTimeout}: {await error}");
        }

        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}\n{await error}");
        }

        return await output;
    }
}

[CollectionDefinition(Name)]
public sealed class DistributedStackCollection : ICollectionFixture<DistributedStack>
{
    public const string Name = "distributed stack";
}
