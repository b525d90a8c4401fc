using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.EndToEnd.Tests;

/// <summary>The standalone host as users run it: a separate process, real HTTP, files on disk.</summary>
public sealed class StandaloneHostTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task The_shipped_Korean_samples_are_ingested_and_searchable_over_http()
    {
        await using var platform = await PlatformProcess.StartAsync();
        try
        {
            using var client = platform.CreateClient();
            var job = await IngestAsync(client, "samples", SampleDocuments());

            Assert.True(job.State == JobStates.Completed, platform.Output);
            Assert.Equal(SampleDocuments().Count, job.Succeeded);
            var search = await SearchAsync(client, "samples", new { query = "검진 전날 금식 시간", topK = 3 });
            Assert.Equal("01-health-checkup", search.Results[0].DocumentId);
            Assert.Equal("건강검진 안내", search.Results[0].Title);
        }
        finally
        {
            await platform.StopAsync();
            platform.DeleteData();
        }
    }

    [Fact]
    public async Task Data_survives_a_crash_and_a_restart_without_reembedding()
    {
        var platform = await PlatformProcess.StartAsync();
        try
        {
            using (var client = platform.CreateClient())
            {
                await IngestAsync(client, "durable", SampleDocuments());
            }

            await platform.StopAsync(crash: true);
            await platform.DisposeAsync();

            platform = await PlatformProcess.StartAsync(platform.DataDirectory);
            using var restarted = platform.CreateClient();
            var again = await IngestAsync(restarted, "durable", SampleDocuments());
            var search = await SearchAsync(restarted, "durable", new { query = "중도상환수수료 면제", topK = 1 });

            Assert.Equal(SampleDocuments().Count, again.Unchanged);
            Assert.Equal(0, again.ChunksEmbedded);
            Assert.Equal("02-mortgage-rates", search.Results[0].DocumentId);
        }
        finally
        {
            await platform.StopAsync();
            platform.DeleteData();
            await platform.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_plugin_the_host_was_never_built_with_is_loaded_from_configuration()
    {
        var faulty = PlatformProcess.Assembly("FaultyPluginAssembly");
        await using var platform = await PlatformProcess.StartAsync(environment: new Dictionary<string, string>
        {
            ["RagPlatform__Plugins__Assemblies__0"] = faulty,
            ["RagPlatform__Embedding__Providers__faulty__ActualDimensions"] = "64",
        });
        try
        {
            using var client = platform.CreateClient();
            var models = await client.GetFromJsonAsync<JsonElement>("/v1/models");
            using var put = await client.PutAsJsonAsync("/v1/collections/swapped", new { embedding = new { provider = "faulty" } });
            var stats = await client.GetFromJsonAsync<CollectionStats>("/v1/collections/swapped", Json);

            Assert.Contains(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "faulty");
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal("faulty/wrong-dimensions@1;dim=64;pool=none;norm=l2", stats!.ModelFingerprint);
            var job = await IngestAsync(client, "swapped", SampleDocuments().Take(2).ToList());
            Assert.Equal(JobStates.Completed, job.State);
        }
        finally
        {
            await platform.StopAsync();
            platform.DeleteData();
        }
    }

    [Fact]
    public async Task Health_alive_and_metrics_answer_on_the_running_host()
    {
        await using var platform = await PlatformProcess.StartAsync();
        try
        {
            using var client = platform.CreateClient();

            Assert.Equal("Healthy", await client.GetStringAsync("/health"));
            Assert.Equal("Healthy", await client.GetStringAsync("/alive"));
            Assert.Contains("# TYPE", await client.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }
        finally
        {
            await platform.StopAsync();
            platform.DeleteData();
        }
    }

    internal static List<object> SampleDocuments()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "samples", "korean");
        var documents = new List<object>();
        foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith(".jsonl", StringComparison.Ordinal))
            {
                documents.AddRange(File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => (object)JsonSerializer.Deserialize<JsonElement>(l)));
                continue;
            }

            var lines = File.ReadAllLines(file);
            var titled = lines[0].StartsWith("# ", StringComparison.Ordinal);
            documents.Add(new
            {
                id = Path.GetFileNameWithoutExtension(file),
                title = titled ? lines[0][2..] : null,
                text = string.Join('\n', titled ? lines[1..] : lines),
            });
        }

        return documents;
    }

    internal static async Task<JobStatus> IngestAsync(HttpClient client, string collection, object documents)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/documents", documents);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(Json))!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = (await client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{accepted.JobId}", Json))!;
            if (JobStates.IsFinal(status.State))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job did not finish: {status}");
            await Task.Delay(50);
        }
    }

    internal static async Task<SearchResponse> SearchAsync(HttpClient client, string collection, object request)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/search", request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
    }
}
