using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RagPlatform.Tests.Shared;
using Xunit.Abstractions;

namespace RagPlatform.AppHost.Tests;

/// <summary>
/// The AppHost as a developer starts it (its program, the launch profile's settings, Local infrastructure), looked at
/// through the Aspire dashboard in Debian's chromium, headless, on loopback: every resource Running and Healthy, then an
/// ingest through the ingestion service whose trace the dashboard shows from the ingestion service through RabbitMQ to an
/// embedding worker. Screenshots go to artifacts/test-results/screenshots.
/// </summary>
public sealed partial class DashboardBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan AllHealthyLimit = TimeSpan.FromMinutes(4);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "rag-dashboard-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _screenshots = Path.Combine(AppHostProcess.RepoRoot, "artifacts", "test-results", "screenshots");
    private readonly List<string> _appHostOutput = [];
    private readonly Stopwatch _sinceStart = new();
    private Process? _appHost;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private Uri _loginUrl = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_screenshots);
        _sinceStart.Start();
        _appHost = StartAppHost();
        _loginUrl = await LoginUrlAsync(TimeSpan.FromMinutes(3));
        _playwright = await Playwright.CreateAsync();
        _browser = await HeadlessChromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        int? appHostId = null;
        if (_appHost is not null)
        {
            appHostId = _appHost.Id;
            await StopAsync(_appHost);
        }

        var left = await LeftoverProcesses.KillLeftAsync(_state, appHostId, TimeSpan.FromSeconds(60));
        Directory.Delete(_state, recursive: true);
        Assert.True(left.Count == 0, "processes outlived the AppHost: " + string.Join(", ", left));
    }

    [Fact]
    public async Task Every_resource_is_running_and_healthy_and_an_ingest_is_traced_from_the_ingestion_service_through_rabbitmq_to_a_worker()
    {
        // Tall: the dashboard's grids render only the rows in view, and an ingest's trace has a few dozen spans.
        var page = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 2400 } });
        await page.GotoAsync(_loginUrl.ToString());

        // Resources: every row Running (the state column says "Running (Unhealthy)" until its health checks pass).
        var resources = await AllRunningAndHealthyAsync(page);
        output.WriteLine($"every resource Running and Healthy {_sinceStart.Elapsed.TotalSeconds:0} s after the AppHost started: {string.Join(", ", resources)}");
        Assert.Superset(new HashSet<string> { "epmd", "messaging", "postgres", "ragdb", "cache", "query", "ingestion" }, resources.ToHashSet());
        Assert.Equal(2, resources.Count(r => r.StartsWith("embedding-worker", StringComparison.Ordinal)));
        await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "dashboard-resources.png"), FullPage = true });

        // An ingest through the ingestion service, at the address the dashboard shows for it.
        var ingestionUrl = await ResourceUrlAsync(page, "ingestion");
        using var ingestion = new HttpClient { BaseAddress = ingestionUrl, Timeout = TimeSpan.FromMinutes(2) };
        using var posted = await ingestion.PostAsJsonAsync("/v1/collections/dashboard/documents", new[]
        {
            new { id = "health-1", title = "건강검진", text = "검진 전날 밤 9시부터 금식해야 한다. 물은 조금 마셔도 된다." },
            new { id = "game-1", title = "던전 공략", text = "보스 몬스터는 화염 속성에 약하다. 얼음 방패를 준비하자." },
        });
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        var jobId = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString();
        await WaitForJobAsync(ingestion, jobId!);

        // Its trace: the request to the ingestion service, the message MassTransit sent over RabbitMQ and the worker's
        // consumption of it, in one trace.
        var trace = await FindIngestTraceAsync(page);
        await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "dashboard-trace.png"), FullPage = true });
        Assert.Contains("ingestion", trace, StringComparison.Ordinal);
        Assert.Contains("embedding-worker", trace, StringComparison.Ordinal);
        Assert.Contains("embed-documents", trace, StringComparison.Ordinal);
        Assert.Matches(RabbitMqSpan(), trace);
    }

    /// <summary>The resource names on the Resources page once every row's state is exactly "Running"; bounded.</summary>
    private async Task<List<string>> AllRunningAndHealthyAsync(IPage page)
    {
        var deadline = DateTime.UtcNow + AllHealthyLimit;
        IReadOnlyList<(string Name, string State)> rows = [];
        while (DateTime.UtcNow < deadline)
        {
            rows = await ResourceRowsAsync(page);
            if (rows.Count >= 9 && rows.All(r => r.State == "Running"))
            {
                return rows.Select(r => r.Name).ToList();
            }

            await Task.Delay(1_000);
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "dashboard-not-healthy.png"), FullPage = true });
        throw new Xunit.Sdk.XunitException($"not every resource was Running and Healthy within {AllHealthyLimit}: " +
            string.Join(", ", rows.Select(r => $"{r.Name}={r.State}")) + "\n" + string.Join("\n", _appHostOutput.TakeLast(40)));
    }

    private static async Task<IReadOnlyList<(string Name, string State)>> ResourceRowsAsync(IPage page)
    {
        var rows = new List<(string, string)>();
        foreach (var row in await page.Locator(".main-grid tr:has(.state-column-cell)").AllAsync())
        {
            var name = (await row.Locator(".resources-name-container").InnerTextAsync()).Trim();
            // The state's own text; beside it the cell may show a badge counting the resource's unread error logs
            // (a service logs its not-yet-ready health checks at Error while it starts).
            var state = (await row.Locator(".state-column-cell > span").First.InnerTextAsync()).Trim();
            rows.Add((name, state));
        }

        return rows;
    }

    private static async Task<Uri> ResourceUrlAsync(IPage page, string resource)
    {
        var row = page.Locator(".main-grid tr:has(.state-column-cell)").Filter(new() { Has = page.Locator(".resources-name-container", new() { HasTextRegex = new Regex($"^\\s*{resource}\\s*$") }) });
        var href = await row.Locator("a[href^='http://']").First.GetAttributeAsync("href");
        return new Uri(href!);
    }

    private static async Task WaitForJobAsync(HttpClient ingestion, string jobId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var job = await ingestion.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
            var state = job.GetProperty("state").GetString();
            if (state is not ("queued" or "running"))
            {
                Assert.Equal("completed", state);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} still {state}");
            await Task.Delay(250);
        }
    }

    /// <summary>Opens the Traces page, then the ingest's trace; returns the text of its detail page once the worker's span is in it.</summary>
    private async Task<string> FindIngestTraceAsync(IPage page)
    {
        var traces = new Uri(_loginUrl, "/traces");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string text = "";
        while (DateTime.UtcNow < deadline)
        {
            await page.GotoAsync(traces.ToString());
            // Health checks and background work add a trace every few seconds, and the grid renders only the rows in
            // view: filter by the route's name, as a developer would type it.
            var filter = page.GetByPlaceholder("Filter...").Last;
            try
            {
                await filter.FillAsync("/documents", new() { Timeout = 10_000 });
            }
            catch (TimeoutException)
            {
                await File.WriteAllTextAsync(Path.Combine(_screenshots, "dashboard-traces.html"), await page.ContentAsync());
                throw;
            }

            await page.WaitForTimeoutAsync(1_500);
            await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "dashboard-traces.png") });
            var ingest = page.Locator(".main-grid tr").Filter(new() { HasTextRegex = new Regex("POST /v1/collections/\\{name\\}/documents") }).First;
            if (await ingest.CountAsync() > 0)
            {
                await ingest.ClickAsync();
                await page.WaitForURLAsync(new Regex("/traces/detail/"));
                await page.WaitForTimeoutAsync(1_000);
                text = await page.Locator("body").InnerTextAsync();
                if (text.Contains("embedding-worker", StringComparison.Ordinal))
                {
                    return text;
                }
            }

            // Spans arrive in batches (the exporters' interval): look again.
            await Task.Delay(2_000);
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "dashboard-trace-missing.png"), FullPage = true });
        throw new Xunit.Sdk.XunitException("no trace of the ingest reached the embedding worker within 2 minutes; last detail page:\n" + text);
    }

    /// <summary>MassTransit's send span, named after the messaging system (OpenTelemetry's messaging conventions).</summary>
    [GeneratedRegex("rabbitmq send")]
    private static partial Regex RabbitMqSpan();

    private Process StartAppHost()
    {
        var start = AppHostProcess.StartInfo(
            "--RagPlatform:Infrastructure=Local",
            "--RagPlatform:StateDirectory=" + _state,
            "--Parameters:messaging-password=" + Secret(),
            "--Parameters:postgres-password=" + Secret(),
            "--Parameters:cache-password=" + Secret());
        // What the launch profile sets, on ports of this run: the dashboard on loopback, without a certificate.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        // The services' fixed launch-profile ports could be taken on a shared machine: let DCP choose.
        start.Environment["DcpPublisher__RandomizePorts"] = "true";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_appHostOutput)
        {
            _appHostOutput.Add(line);
        }
    }

    /// <summary>The login URL the AppHost prints (with its browser token), as a developer would open it.</summary>
    private async Task<Uri> LoginUrlAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            lock (_appHostOutput)
            {
                var login = _appHostOutput.Select(l => LoginLine().Match(l)).FirstOrDefault(m => m.Success);
                if (login is not null)
                {
                    return new Uri(login.Groups["url"].Value);
                }
            }

            Assert.False(_appHost!.HasExited, "the AppHost exited: " + string.Join("\n", _appHostOutput));
            await Task.Delay(250);
        }

        throw new TimeoutException("the AppHost printed no dashboard login URL: " + string.Join("\n", _appHostOutput));
    }

    [GeneratedRegex(@"Login to the dashboard at (?<url>http://127\.0\.0\.1:\d+/login\?t=\w+)")]
    private static partial Regex LoginLine();

    /// <summary>SIGTERM, as Ctrl+C or a process manager stops it: the AppHost stops every resource before it exits.</summary>
    private static async Task StopAsync(Process appHost)
    {
        if (!appHost.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", appHost.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await appHost.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                appHost.Kill(entireProcessTree: true);
            }
        }

        appHost.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Secret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
}
