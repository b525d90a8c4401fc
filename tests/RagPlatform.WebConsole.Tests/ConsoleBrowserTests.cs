using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RagPlatform.EndToEnd.Tests;
using RagPlatform.Tests.Shared;
using Xunit.Abstractions;

namespace RagPlatform.WebConsole.Tests;

/// <summary>
/// The web console in Debian's chromium (headless, Playwright, loopback only) against the real standalone host with an
/// API key required: the key prompt, an upload of the shipped Korean samples through the console's form, the job
/// followed to completion, a search whose first result is the expected document with the query's terms marked, a
/// context preview, and the language toggle; and the query API's search-and-context console. Screenshots go to
/// artifacts/test-results/screenshots.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleHost host, ITestOutputHelper output) : IClassFixture<ConsoleHost>, IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(ConsoleHost.RepoRoot, "artifacts", "test-results", "screenshots");
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Screenshots);
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
    }

    [Fact]
    public async Task Korean_files_uploaded_in_the_console_are_followed_to_completion_and_the_expected_document_is_found_first()
    {
        var page = await NewPageAsync("ko-KR");
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            // The 401 of the first call (no key yet) is the expected prompt, not a fault of the page.
            if (message.Type == "error" && !message.Text.Contains("401", StringComparison.Ordinal))
            {
                consoleErrors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => consoleErrors.Add(error);

        await page.GotoAsync(new Uri(host.Address, "/ui").ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/ui/$"));

        // No key in this browser session yet: a prompt in Korean (the browser's language), not a broken page.
        var keyPanel = page.Locator("#key-panel");
        await Assertions.Expect(keyPanel).ToBeVisibleAsync();
        await Assertions.Expect(keyPanel.Locator("h2")).ToHaveTextAsync("API 키가 필요합니다");
        await Assertions.Expect(page.Locator("#key-detail")).ToContainTextAsync("An API key is required");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-key-prompt.png") });
        await page.FillAsync("#key-input", host.ApiKey);
        await page.ClickAsync("#key-form button[type=submit]");
        await Assertions.Expect(keyPanel).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#collections-empty")).ToBeVisibleAsync();
        Assert.Equal(host.ApiKey, await page.EvaluateAsync<string>("sessionStorage.getItem('rag.console.apiKey')"));
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('rag.console.apiKey')"));

        // Upload the shipped Korean samples (Markdown and text) through the console's form.
        var samples = KoreanSamples();
        await page.FillAsync("#upload-collection", "console-ko");
        await page.FillAsync("#upload-tags", "samples");
        await page.SetInputFilesAsync("#upload-files", samples);
        await page.ClickAsync("#upload-form button[type=submit]");
        await Assertions.Expect(page.Locator("#upload-results tbody tr")).ToHaveCountAsync(samples.Length);
        Assert.Equal(samples.Length, await page.Locator("#upload-results tr[data-status=parsed]").CountAsync());

        // The job, polled by the console, reaches "completed"; the collection's stats follow.
        var job = page.Locator("#jobs-list li.job").First;
        await Assertions.Expect(job).ToHaveAttributeAsync("data-state", "completed", new() { Timeout = 120_000 });
        await Assertions.Expect(job.Locator(".state")).ToHaveTextAsync("완료");
        var row = page.Locator("#collections-table tr[data-collection=console-ko]");
        await Assertions.Expect(row.Locator("[data-stat=documents]")).ToHaveTextAsync(samples.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(row.Locator("[data-stat=pending]")).ToHaveTextAsync("0");
        output.WriteLine("job: " + await job.InnerTextAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-collections.png"), FullPage = true });

        // Search, in each mode: the health-checkup guide first, the query's terms marked in it.
        await page.ClickAsync("[data-tab=search]");
        await Assertions.Expect(page.Locator("#search-collection")).ToHaveValueAsync("console-ko");
        await page.FillAsync("#search-query", "검진 전날 금식 시간");

        // Filters reach the API: a tag no document has finds nothing.
        await page.FillAsync("#search-tags", "없는태그");
        await page.ClickAsync("#search-form button[type=submit]");
        await Assertions.Expect(page.Locator("#search-summary")).ToHaveTextAsync("결과가 없습니다.");
        await Assertions.Expect(page.Locator("#search-results li")).ToHaveCountAsync(0);
        await page.FillAsync("#search-tags", "samples");

        foreach (var mode in new[] { "lexical", "dense", "hybrid" })
        {
            await page.SelectOptionAsync("#search-mode", mode);
            await page.ClickAsync("#search-form button[type=submit]");
            // The summary names the mode of the answer shown: the results below it are this mode's.
            var label = await page.Locator($"#search-mode option[value={mode}]").InnerTextAsync();
            await Assertions.Expect(page.Locator("#search-summary")).ToContainTextAsync(label);
            var first = page.Locator("#search-results li.result").First;
            await Assertions.Expect(first).ToHaveAttributeAsync("data-document", "01-health-checkup.md");
            output.WriteLine($"{mode}: {await page.Locator("#search-summary").InnerTextAsync()}; first: {await first.Locator(".result-head").InnerTextAsync()}");
        }

        var best = page.Locator("#search-results li.result").First;
        await Assertions.Expect(best.Locator(".title")).ToHaveTextAsync("건강검진 안내");
        var marks = await best.Locator("mark").AllInnerTextsAsync();
        Assert.Contains("검진", marks);
        Assert.Contains("전날", marks);
        Assert.Matches(@"^\d+\.\d{4}$", await best.Locator(".score b").InnerTextAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-search.png"), FullPage = true });

        // Context preview: the packed context cites the same document first.
        await page.ClickAsync("[data-tab=context]");
        await page.FillAsync("#context-query", "검진 전날 금식 시간");
        await page.ClickAsync("#context-form button[type=submit]");
        await Assertions.Expect(page.Locator("#context-text")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#context-sources li").First).ToHaveAttributeAsync("data-document", "01-health-checkup.md");
        await Assertions.Expect(page.Locator("#context-text")).ToContainTextAsync("[1]");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-context.png"), FullPage = true });

        // English labels on the toggle, the results relabelled in place.
        await page.ClickAsync("#lang-toggle");
        await Assertions.Expect(page.Locator("[data-tab=search]")).ToHaveTextAsync("Search");
        await Assertions.Expect(page.Locator("#context-summary")).ToContainTextAsync("source(s)");
        await page.ClickAsync("[data-tab=search]");
        await Assertions.Expect(page.Locator("#search-summary")).ToContainTextAsync("result(s)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-search-en.png"), FullPage = true });

        Assert.True(consoleErrors.Count == 0, "errors in the page: " + string.Join("\n", consoleErrors));
    }

    [Fact]
    public async Task A_refused_key_brings_the_prompt_back_instead_of_a_broken_page()
    {
        var page = await NewPageAsync("en-US");
        await page.GotoAsync(new Uri(host.Address, "/ui/").ToString());
        await page.FillAsync("#key-input", "rag_abcdefghijkl_not-the-secret");
        await page.ClickAsync("#key-form button[type=submit]");

        await Assertions.Expect(page.Locator("#key-panel")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#key-reason")).ToHaveTextAsync(new Regex("refused"));
        await Assertions.Expect(page.Locator("[data-tab=collections]")).ToHaveTextAsync("Collections");
    }

    [Fact]
    public async Task The_console_files_are_served_without_a_key_and_locked_to_this_origin_while_the_api_still_requires_the_key()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Address };

        using var bare = await client.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/ui/", bare.Headers.Location?.ToString());

        using var index = await client.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());

        using var script = await client.GetAsync("/ui/js/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(script.Headers.ETag);

        Assert.Equal("{\"ingestion\":true}", await client.GetStringAsync("/ui/config.json"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/missing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/collections")).StatusCode);
    }

    [Fact]
    public async Task On_the_query_api_the_console_searches_a_collection_by_name_and_offers_no_collections_uploads_or_jobs()
    {
        // As the distributed topology splits the work: a collection written by the ingestion side (here a standalone
        // host, then stopped), served by the query API process alone on the same data.
        var writer = await PlatformProcess.StartAsync();
        try
        {
            using (var client = writer.CreateClient())
            {
                await IngestSamplesAsync(client, "split");
            }

            await writer.StopAsync();
            await using var query = await PlatformProcess.StartAsync(writer.DataDirectory, host: "QueryApiAssembly");

            var page = await NewPageAsync("ko-KR");
            await page.GotoAsync(new Uri(query.Address, "/ui/").ToString());
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
            await Assertions.Expect(page.Locator("[data-tab=collections]")).ToBeHiddenAsync();
            await Assertions.Expect(page.Locator("#tab-collections")).ToBeHiddenAsync();
            await Assertions.Expect(page.Locator("#tab-search")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("footer")).ToContainTextAsync("수집(ingestion) 서비스");
            await Assertions.Expect(page.Locator("#key-panel")).ToBeHiddenAsync();

            // No listing on this host: the collection is named by hand, and offered again in the context view.
            await page.FillAsync("#search-collection", "split");
            await page.FillAsync("#search-query", "중도상환수수료 면제");
            await page.ClickAsync("#search-form button[type=submit]");
            await Assertions.Expect(page.Locator("#search-results li.result").First).ToHaveAttributeAsync("data-document", "02-mortgage-rates.md");
            await page.ClickAsync("[data-tab=context]");
            await Assertions.Expect(page.Locator("#context-collection")).ToHaveValueAsync("split");
            await page.FillAsync("#context-query", "중도상환수수료 면제");
            await page.ClickAsync("#context-form button[type=submit]");
            await Assertions.Expect(page.Locator("#context-sources li").First).ToHaveAttributeAsync("data-document", "02-mortgage-rates.md");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-query-api.png"), FullPage = true });
        }
        finally
        {
            await writer.DisposeAsync();
            writer.DeleteData();
        }
    }

    private static string[] KoreanSamples() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples", "korean"))
            .Where(f => f.EndsWith(".md", StringComparison.Ordinal) || f.EndsWith(".txt", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>The samples through <c>POST /files</c>, as the CLI sends them; returns once the job completed.</summary>
    private static async Task IngestSamplesAsync(HttpClient client, string collection)
    {
        using var form = new MultipartFormDataContent();
        foreach (var file in KoreanSamples())
        {
            form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(file)), "files", Path.GetFileName(file));
        }

        using var posted = await client.PostAsync($"/v1/collections/{collection}/files", form);
        Assert.True(posted.StatusCode == HttpStatusCode.Accepted, await posted.Content.ReadAsStringAsync());
        var jobId = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var state = (await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}")).GetProperty("state").GetString();
            if (state is not ("queued" or "running"))
            {
                Assert.Equal("completed", state);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} still {state}");
            await Task.Delay(200);
        }
    }

    private async Task<IPage> NewPageAsync(string locale)
    {
        var context = await _browser!.NewContextAsync(new() { Locale = locale, ViewportSize = new() { Width = 1280, Height = 900 } });
        return await context.NewPageAsync();
    }
}
