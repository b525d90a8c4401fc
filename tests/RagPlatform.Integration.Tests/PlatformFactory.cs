using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Integration.Tests;

/// <summary>The standalone host (all three services, in-memory bus, embedded stores) on a temp data directory.</summary>
public class PlatformFactory : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "rag-it-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
        builder.UseSetting("RagPlatform:Messaging:RetryLimit", "1");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            DeleteDataDirectory();
        }
    }

    /// <summary>
    /// The host's plugins may still be writing their final snapshots while the factory is disposed (the
    /// container's async disposal is not awaited by every path), which makes a recursive delete meet a file
    /// created behind it. A few retries let those writes finish; a temp directory left behind fails no test.
    /// </summary>
    private void DeleteDataDirectory()
    {
        for (var attempt = 1; Directory.Exists(DataDirectory); attempt++)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException) when (attempt < 10)
            {
                Thread.Sleep(100);
            }
            catch (IOException)
            {
                return;
            }
        }
    }
}

public static class PlatformClient
{
    public static async Task<JobStatus> IngestAsync(this HttpClient client, string collection, object documents)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/documents", documents);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(PlatformFactory.Json))!;
        return await client.WaitForJobAsync(accepted.JobId);
    }

    public static async Task<JobStatus> WaitForJobAsync(this HttpClient client, Guid jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = (await client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{jobId}", PlatformFactory.Json))!;
            if (JobStates.IsFinal(status.State))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish: {status}");
            await Task.Delay(25);
        }
    }

    public static async Task<SearchResponse> SearchAsync(this HttpClient client, string collection, object request)
    {
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/search", request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(PlatformFactory.Json))!;
    }

    public static async Task<CollectionStats> StatsAsync(this HttpClient client, string collection) =>
        (await client.GetFromJsonAsync<CollectionStats>($"/v1/collections/{collection}", PlatformFactory.Json))!;

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
