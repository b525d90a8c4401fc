using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RagPlatform.ServiceDefaults.Tests;

/// <summary>
/// AddServiceDefaults puts Microsoft.Extensions.Http.Resilience's standard handler on every IHttpClientFactory client,
/// named or not, so the services' outbound calls retry transient failures without code of their own.
/// </summary>
public sealed class ResilienceHandlerTests
{
    [Fact]
    public async Task A_named_client_retries_503s_and_returns_the_success()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((503, null), (503, null));
        var (app, _) = await TestService.StartAsync(new Dictionary<string, string?>());
        await using (app)
        {
            var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

            using var response = await client.GetAsync(upstream.Url);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(3, upstream.Bodies.Count);
        }
    }

    [Fact]
    public async Task The_default_client_waits_as_long_as_Retry_After_asks_before_trying_again()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((429, "2"));
        var (app, _) = await TestService.StartAsync(new Dictionary<string, string?>());
        await using (app)
        {
            var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
            var clock = Stopwatch.StartNew();

            using var response = await client.GetAsync(upstream.Url);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(2, upstream.Bodies.Count);
            // The standard handler's own first backoff is 2 s with jitter (it can be well under); Retry-After: 2
            // makes the wait at least that long.
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"retried after {clock.Elapsed}");
        }
    }

    [Fact]
    public async Task A_request_that_keeps_failing_returns_the_last_answer_after_the_bounded_retries()
    {
        await using var upstream = await ScriptedUpstream.AlwaysAsync(500);
        // The options of the handler ConfigureHttpClientDefaults adds are named "-standard" (no client name).
        var (app, _) = await TestService.StartAsync(new Dictionary<string, string?>(), configure: b => b.Services
            .Configure<Microsoft.Extensions.Http.Resilience.HttpStandardResilienceOptions>("-standard", o => o.Retry.Delay = TimeSpan.FromMilliseconds(10)));
        await using (app)
        {
            var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

            using var response = await client.GetAsync(upstream.Url);

            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            // The standard handler's default: the first attempt and three retries.
            Assert.Equal(4, upstream.Bodies.Count);
        }
    }
}
