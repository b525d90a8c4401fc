using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// The OpenAPI documents committed in docs/openapi/ (written by each host's build) are what the running hosts serve at
/// /openapi/v1.json. A change to an endpoint that is not rebuilt and committed fails here.
/// </summary>
public sealed class OpenApiDocumentTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private static readonly string RepoRoot = Metadata("RepoRoot");

    [Fact]
    public async Task The_standalone_hosts_document_is_the_committed_one()
    {
        using var client = factory.CreateClient();
        var served = await client.GetStringAsync("/openapi/v1.json");

        AssertSameDocument("standalone", served);
    }

    [Fact]
    public async Task The_api_reference_is_at_docs_in_development_only()
    {
        using var development = factory.CreateClient();
        using var production = factory.WithWebHostBuilder(b => b.UseEnvironment("Production")).CreateClient();

        using var page = await development.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("scalar", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NotFound, (await production.GetAsync("/docs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await production.GetAsync("/openapi/v1.json")).StatusCode);
    }

    /// <summary>The separate service hosts, each started as its own process (their built output) on a free loopback port.</summary>
    [Theory]
    [InlineData("QueryApi")]
    [InlineData("IngestionService")]
    [InlineData("EmbeddingWorker")]
    public async Task Each_service_hosts_document_is_the_committed_one(string service)
    {
        var assembly = Path.Combine(RepoRoot, "services", "RagPlatform." + service, "bin", Metadata("Configuration"), "net10.0", $"RagPlatform.{service}.dll");
        Assert.True(File.Exists(assembly), $"{assembly} is not built (this test project builds it through a project reference).");
        var data = Path.Combine(Path.GetTempPath(), "rag-openapi-" + Guid.NewGuid().ToString("N"));
        var port = FreePort();
        // Its own folder as the working directory (the content root: its own appsettings.json, not this test's copy of the
        // standalone host's, which names port 5080), and the port on the command line, which outranks any appsettings.
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["RagPlatform__DataDirectory"] = data;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is not null)
            {
                output.Enqueue(line);
                while (output.Count > 40 && output.TryDequeue(out _))
                {
                }
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            // The hosts run without tiered compilation (fully optimised JIT from the start): slow to start on a loaded machine.
            var served = await GetWhenUpAsync(client, process, TimeSpan.FromSeconds(180), () => string.Join('\n', output));

            AssertSameDocument(service.ToLowerInvariant(), served);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    private static void AssertSameDocument(string name, string served)
    {
        var path = Path.Combine(RepoRoot, "docs", "openapi", name + ".json");
        var committed = JsonNode.Parse(File.ReadAllText(path))!;
        var running = JsonNode.Parse(served)!;
        var difference = FirstDifference(committed, running, "$");
        Assert.True(difference is null,
            $"docs/openapi/{name}.json differs from what the running host serves at {difference}: build the host (its build rewrites the file) and commit it.");
    }

    /// <summary>The JSON path of the first difference, or null when both documents are equal (object key order aside).</summary>
    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        switch (a, b)
        {
            case (null, null):
                return null;
            case (JsonObject x, JsonObject y):
                foreach (var key in x.Select(p => p.Key).Union(y.Select(p => p.Key)))
                {
                    if (!x.ContainsKey(key) || !y.ContainsKey(key))
                    {
                        return $"{path}.{key} (only in the {(x.ContainsKey(key) ? "committed" : "served")} document)";
                    }

                    if (FirstDifference(x[key], y[key], $"{path}.{key}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonArray x, JsonArray y):
                if (x.Count != y.Count)
                {
                    return $"{path} ({x.Count} items committed, {y.Count} served)";
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (FirstDifference(x[i], y[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(a, b) ? null : $"{path} (committed {a?.ToJsonString()}, served {b?.ToJsonString()})";
        }
    }

    private static async Task<string> GetWhenUpAsync(HttpClient client, Process process, TimeSpan patience, Func<string> output)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            Assert.False(process.HasExited, $"the host exited with code {(process.HasExited ? process.ExitCode : 0)} before serving:\n{output()}");
            try
            {
                using var response = await client.GetAsync("/openapi/v1.json");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return await response.Content.ReadAsStringAsync();
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"the host did not serve /openapi/v1.json in time:\n{output()}");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Metadata(string key) => typeof(OpenApiDocumentTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
