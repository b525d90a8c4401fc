using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using RagPlatform.Contracts.Http;
using RagPlatform.Tests.Shared;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RagPlatform.Distributed.Tests;

/// <summary>
/// The AppHost on Local infrastructure, started once for the suite by Aspire.Hosting.Testing in a fresh state directory
/// and stopped afterwards; every process it started (servers, services, DCP, the dashboard) is gone when it is disposed,
/// or the disposal fails naming what was left.
/// </summary>
public sealed class DistributedApp : IAsyncLifetime
{
    public const string EmbedQueue = "embed-documents";
    public const string EmbedErrorQueue = EmbedQueue + "_error";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "rag-aspire-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly ConcurrentDictionary<string, ResourceEvent> _instances = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopWatching = new();
    private Task _watch = Task.CompletedTask;

    public DistributedApplication App { get; private set; } = null!;

    public HttpClient Ingestion { get; private set; } = null!;

    public HttpClient Query { get; private set; } = null!;

    /// <summary>The broker's password: no service may ever log it.</summary>
    public string MessagingPassword { get; } = Secret();

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        string[] args =
        [
            "--RagPlatform:Infrastructure=Local",
            "--RagPlatform:StateDirectory=" + _state,
            "--RagPlatform:EmbeddingWorkers=2",
            // Embedding messages of 64 chunks: a 5,000-chunk job progresses message by message, so the fault tests
            // strike mid-ingestion (at the default 512 both workers finish it within one poll).
            "--RagPlatform:ServiceSettings:Ingestion:MaxChunksPerMessage=64",
            "--Parameters:messaging-password=" + MessagingPassword,
            "--Parameters:postgres-password=" + Secret(),
            "--Parameters:cache-password=" + Secret(),
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.RagPlatform_AppHost>(args, timeout.Token);
        App = await builder.BuildAsync(timeout.Token);
        _watch = Task.Run(async () =>
        {
            await foreach (var update in App.ResourceNotifications.WatchAsync(_stopWatching.Token))
            {
                _instances[update.ResourceId] = update;
            }
        });
        try
        {
            await App.StartAsync(timeout.Token);
            foreach (var service in new[] { "query", "ingestion", "embedding-worker" })
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        Ingestion = App.CreateHttpClient("ingestion");
        Ingestion.Timeout = TimeSpan.FromMinutes(3);
        Query = App.CreateHttpClient("query");
        Query.Timeout = TimeSpan.FromMinutes(3);
    }

    public async Task DisposeAsync()
    {
        Ingestion?.Dispose();
        Query?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await _stopWatching.CancelAsync();
            await _watch.ContinueWith(_ => { }, TaskScheduler.Default);
            await App.DisposeAsync();
        }

        // The AppHost runs in this test process: DCP monitors it.
        var left = await LeftoverProcesses.KillLeftAsync(_state, Environment.ProcessId, TimeSpan.FromSeconds(60));
        Directory.Delete(_state, recursive: true);
        Assert.True(left.Count == 0, "processes outlived the AppHost: " + string.Join(", ", left));
    }

    public async Task<string?> ConnectionStringAsync(string resource) => await App.GetConnectionStringAsync(resource);

    /// <summary>The instances of a resource (the replicas of a replicated one), with their latest snapshots.</summary>
    public IReadOnlyList<Instance> Instances(string resource) =>
        _instances.Values.Where(e => e.Resource.Name == resource)
            .Select(e => new Instance(e.ResourceId, e.Snapshot))
            .OrderBy(i => i.Id, StringComparer.Ordinal)
            .ToList();

    public Task StopAsync(string resource) => CommandAsync(resource, KnownResourceCommands.StopCommand);

    public Task StartAsync(string resource) => CommandAsync(resource, KnownResourceCommands.StartCommand);

    /// <summary>Waits until an instance (a resource id: the resource's name, or a replica's) is Running and Healthy.</summary>
    public Task WaitHealthyAsync(string instance) =>
        WaitForAsync(instance, e => e.State?.Text == KnownResourceStates.Running && e.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);

    /// <summary>Waits until an instance is in one of <paramref name="states"/>.</summary>
    public Task WaitForStateAsync(string instance, IEnumerable<string> states) => WaitForAsync(instance, e => states.Contains(e.State?.Text));

    private async Task WaitForAsync(string instance, Func<CustomResourceSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!(_instances.Values.FirstOrDefault(e => e.ResourceId == instance || (e.Resource.Name == instance && e.ResourceId.StartsWith(instance, StringComparison.Ordinal))) is { } current
            && condition(current.Snapshot)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{instance} did not reach the expected state in {StartTimeout}");
            await Task.Delay(250);
        }
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

    public async Task<SearchResponse> SearchAsync(string collection, string query, string mode = "hybrid")
    {
        using var response = await Query.PostAsJsonAsync($"/v1/collections/{collection}/search", new { query, topK = 5, mode }, Json);
        Assert.True(response.IsSuccessStatusCode, $"search answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
    }

    private async Task CommandAsync(string resource, string command)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, command);
        Assert.True(result.Success, $"{command} of {resource}: {result.Message}");
    }

    private static string Secret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>One running instance: its resource id, process and own HTTP address (not the load-balancing proxy's).</summary>
    public sealed record Instance(string Id, CustomResourceSnapshot Snapshot)
    {
        /// <summary>The process DCP started (the dashboard's "executable.pid" property): for a project, <c>dotnet run</c>.</summary>
        public int ProcessId => Convert.ToInt32(Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>The service's own process: <c>dotnet run</c> starts the built program as its child.</summary>
        public Process ServiceProcess()
        {
            var child = Directory.EnumerateDirectories("/proc")
                .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
                .Where(pid => pid > 0 && ParentOf(pid) == ProcessId)
                .ToList();
            return Process.GetProcessById(child.Count == 1 ? child[0] : ProcessId);
        }

        private static int ParentOf(int pid)
        {
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return 0;
            }
        }

        /// <summary>The address the instance itself listens on (its ASPNETCORE_URLS), so a request reaches this replica.</summary>
        public Uri Url => new(Snapshot.EnvironmentVariables.Single(v => v.Name == "ASPNETCORE_URLS").Value!.Split(';')[0]);
    }
}

[CollectionDefinition(Name)]
public sealed class DistributedAppCollection : ICollectionFixture<DistributedApp>
{
    public const string Name = "distributed app";
}
