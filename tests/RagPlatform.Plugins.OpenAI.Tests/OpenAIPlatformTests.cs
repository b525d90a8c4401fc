using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>The standalone host (ingestion, embedding worker, query API, in-memory bus) on a temp data directory,
/// with the settings a test gives, its plugins loaded from the plugins folder as in production.</summary>
public sealed class OpenAIPlatform(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "rag-openai-it-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
        builder.UseSetting("RagPlatform:Messaging:RetryLimit", "1");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A temp directory left behind fails no test.
            }
        }
    }

    /// <summary>Settings of an "openai"-plugin provider named <paramref name="name"/> against a fault server.</summary>
    public static Dictionary<string, string?> Provider(string name, FaultServer server, params string[] keys)
    {
        var prefix = $"RagPlatform:Embedding:Providers:{name}:";
        var settings = new Dictionary<string, string?>
        {
            [prefix + "Endpoint"] = server.Endpoint,
            [prefix + "Model"] = "test-embedding",
            [prefix + "Dimensions"] = "64",
            [prefix + "InitialBackoffSeconds"] = "0.05",
            [prefix + "MaxBackoffSeconds"] = "0.2",
            [prefix + "RequestTimeoutSeconds"] = "5",
            [prefix + "MaxRetrySeconds"] = "60",
            [prefix + "MaxAttempts"] = "10",
            // One request in flight: every request is sent knowing the answers before it, which is what
            // "no request before a Retry-After expires" is measured against.
            [prefix + "MaxConcurrentRequests"] = "1",
        };
        if (!string.Equals(name, "openai", StringComparison.Ordinal))
        {
            settings[prefix + "Plugin"] = "openai";
        }

        for (var i = 0; i < keys.Length; i++)
        {
            settings[prefix + $"ApiKeys:{i}"] = keys[i];
        }

        return settings;
    }
}

public static class PlatformCalls
{
    public static async Task<JobStatus> IngestAsync(this HttpClient client, string collection, object documents, TimeSpan? within = null)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/documents", documents);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(OpenAIPlatform.Json))!;
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var status = (await client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{accepted.JobId}", OpenAIPlatform.Json))!;
            if (JobStates.IsFinal(status.State))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {accepted.JobId} did not finish: {status}");
            await Task.Delay(50);
        }
    }

    public static async Task<ProviderUsageResponse> UsageAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync<ProviderUsageResponse>("/v1/providers/usage", OpenAIPlatform.Json))!;
}

/// <summary>The issue's done-when, through the whole platform against the loopback fault server.</summary>
public sealed class OpenAIPlatformTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static object[] Documents(int count, Func<int, bool>? poisoned = null, string prefix = "doc") =>
        Enumerable.Range(0, count).Select(i => (object)new
        {
            id = $"{prefix}-{i}",
            title = $"문서 {i}",
            text = $"{prefix} {i}번 문서: 임베딩 서비스의 장애 주입 시험 본문입니다. 고유 번호 {i * 7919}."
                + (poisoned?.Invoke(i) == true ? " #poison#" : ""),
        }).ToArray();

    [Fact]
    public async Task Ingesting_2000_documents_through_429s_500s_stalls_and_poisoned_inputs_embeds_every_good_chunk_once()
    {
        _server.ThrottleEvery = 7;
        _server.RetryAfterStyle = "ms";
        _server.ThrottleRetryAfter = TimeSpan.FromMilliseconds(300);
        _server.FailEvery = 11;
        _server.StallEvery = 29;
        _server.StallFor = TimeSpan.FromSeconds(30);
        _server.PoisonMarker = "#poison#";
        var settings = OpenAIPlatform.Provider("openai", _server, TestProviders.KeyOne);
        settings["RagPlatform:Embedding:Provider"] = "openai";
        settings["RagPlatform:Embedding:Providers:openai:MaxInputsPerRequest"] = "100";
        // Long enough that a slow answer on a loaded machine is not taken for a stall (its retry would embed twice).
        settings["RagPlatform:Embedding:Providers:openai:RequestTimeoutSeconds"] = "4";
        await using var platform = new OpenAIPlatform(settings);
        using var client = platform.CreateClient();
        static bool Poisoned(int i) => i % 200 == 17;

        var job = await client.IngestAsync("faults", Documents(2000, Poisoned), TimeSpan.FromSeconds(300));

        Assert.Equal(JobStates.CompletedWithErrors, job.State);
        Assert.Equal(1990, job.Succeeded);
        Assert.Equal(10, job.Failed);
        Assert.Equal(1990, job.ChunksEmbedded);
        var poisonedIds = Enumerable.Range(0, 2000).Where(Poisoned).Select(i => $"doc-{i}").ToHashSet();
        Assert.Equal(poisonedIds, job.Errors.Select(e => e.Id).ToHashSet());
        Assert.All(job.Errors, e => Assert.Contains("maximum context length", e.Error, StringComparison.Ordinal));

        // Every good chunk got its vector from exactly one successful answer, whatever failed around it.
        Assert.Equal(1990, _server.EmbeddedTexts.Count);
        Assert.All(_server.EmbeddedTexts, e => Assert.Equal(1, e.Value));
        Assert.DoesNotContain(_server.EmbeddedTexts.Keys, t => t.Contains("#poison#", StringComparison.Ordinal));
        Assert.Empty(_server.Violations);
        var requests = _server.Requests;
        Assert.Contains(requests, r => r.Status == 429);
        Assert.Contains(requests, r => r.Status == 500);
        Assert.Contains(requests, r => r.Status == 499);
        Assert.All(requests, r => Assert.InRange(r.Inputs.Count, 0, 100));
        Assert.Equal(1990, (await client.GetFromJsonAsync<CollectionStats>("/v1/collections/faults", OpenAIPlatform.Json))!.Chunks);
    }

    [Fact]
    public async Task With_three_keys_one_always_429_all_work_completes_on_the_other_two_and_usage_shows_the_split()
    {
        _server.AlwaysThrottledKeys.Add(TestProviders.KeyThree);
        _server.ThrottleRetryAfter = TimeSpan.FromSeconds(60);
        var settings = OpenAIPlatform.Provider("openai", _server, TestProviders.KeyOne, TestProviders.KeyTwo, TestProviders.KeyThree);
        settings["RagPlatform:Embedding:Provider"] = "openai";
        settings["RagPlatform:Embedding:Providers:openai:MaxInputsPerRequest"] = "20";
        settings["RagPlatform:Embedding:Providers:openai:PricePer1KTokens"] = "0.02";
        await using var platform = new OpenAIPlatform(settings);
        using var client = platform.CreateClient();

        var job = await client.IngestAsync("keys", Documents(300));

        Assert.Equal(JobStates.Completed, job.State);
        Assert.Equal(300, job.Succeeded);
        var usage = await client.UsageAsync();
        var provider = Assert.Single(usage.Providers, p => p.Name == "openai");
        Assert.Equal(3, provider.Keys.Count);
        Assert.True(provider.Keys[0].Tokens > 0 && provider.Keys[1].Tokens > 0, "both good keys carry work");
        Assert.Equal(0, provider.Keys[2].Tokens);
        Assert.Equal(1, provider.Keys[2].Throttled);
        Assert.NotNull(provider.Keys[2].PausedUntil);
        Assert.Equal(provider.Tokens, provider.Keys[0].Tokens + provider.Keys[1].Tokens);
        Assert.Empty(_server.Violations);
        var spend = Assert.Single(usage.Spend, s => s.Provider == "openai");
        Assert.Equal(provider.Tokens, spend.Tokens);
        Assert.Equal(spend.Tokens / 1000m * 0.02m, spend.Cost);

        var raw = await client.GetStringAsync("/v1/providers/usage") + await client.GetStringAsync("/metrics");
        Assert.DoesNotContain("sk-test", raw, StringComparison.Ordinal);
        Assert.Contains("ragplatform_openai_requests", raw, StringComparison.Ordinal);
        Assert.Contains(provider.Keys[0].Id, raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_provider_fails_the_job_with_its_reason_instead_of_spinning()
    {
        _server.AlwaysFail = true;
        var settings = OpenAIPlatform.Provider("openai", _server, TestProviders.KeyOne);
        settings["RagPlatform:Embedding:Provider"] = "openai";
        settings["RagPlatform:Embedding:Providers:openai:MaxAttempts"] = "3";
        await using var platform = new OpenAIPlatform(settings);
        using var client = platform.CreateClient();

        var job = await client.IngestAsync("dead", Documents(5));

        Assert.Equal(JobStates.Failed, job.State);
        Assert.All(job.Errors, e => Assert.Contains("gave up after 3 attempts", e.Error, StringComparison.Ordinal));
        // Two deliveries of the message (RetryLimit 1), three attempts each.
        Assert.Equal(6, _server.Requests.Count);
    }
}
