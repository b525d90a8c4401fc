using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk.Remote;
using RagPlatform.Tests.Shared;

namespace RagPlatform.Core.Tests;

/// <summary>
/// The one retry policy of remote calls (RagPlatform.Sdk.Remote.RemoteRetry): bounded, Retry-After honoured up to the
/// cap, only what is safe to repeat, stopped by cancellation; and the host's outbound clients get it (or, for plugins,
/// no second layer under theirs).
/// </summary>
public sealed class RemoteRetryTests
{
    private static readonly RemoteRetryOptions Fast = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task A_call_that_keeps_failing_is_sent_MaxAttempts_times_and_the_last_answer_comes_back()
    {
        var upstream = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        var clock = new RecordingTimeProvider();

        using var response = await Send(upstream, clock, HttpMethod.Get);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(4, upstream.Calls);
        Assert.Equal(3, clock.Waits.Count);
        // Exponential from BaseDelay with jitter, never above MaxDelay.
        Assert.All(clock.Waits, w => Assert.InRange(w, TimeSpan.Zero, Fast.MaxDelay));
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3600, 30)]
    public async Task Retry_After_is_waited_as_asked_up_to_MaxDelay(int retryAfterSeconds, int waitedSeconds)
    {
        var upstream = new ScriptedHandler(n =>
        {
            if (n > 1)
            {
                return new HttpResponseMessage(HttpStatusCode.OK);
            }

            var throttled = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            throttled.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));
            return throttled;
        });
        var clock = new RecordingTimeProvider();

        using var response = await Send(upstream, clock, HttpMethod.Post);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(waitedSeconds)], clock.Waits);
    }

    [Theory]
    [InlineData("POST", HttpStatusCode.InternalServerError, false, 1)]
    [InlineData("POST", HttpStatusCode.BadGateway, false, 1)]
    [InlineData("POST", HttpStatusCode.InternalServerError, true, 4)]
    [InlineData("POST", HttpStatusCode.ServiceUnavailable, false, 4)]
    [InlineData("GET", HttpStatusCode.InternalServerError, false, 4)]
    [InlineData("PUT", HttpStatusCode.BadRequest, false, 1)]
    [InlineData("GET", HttpStatusCode.NotImplemented, false, 1)]
    public async Task Only_calls_safe_to_repeat_are_repeated(string method, HttpStatusCode status, bool markedRepeatable, int expectedCalls)
    {
        var upstream = new ScriptedHandler(_ => new HttpResponseMessage(status));

        using var _ = await Send(upstream, new RecordingTimeProvider(), new HttpMethod(method), markedRepeatable ? RemoteRetry.Repeatable : null);

        Assert.Equal(expectedCalls, upstream.Calls);
    }

    [Fact]
    public async Task A_request_marked_not_repeatable_is_never_repeated_not_even_after_a_429()
    {
        var upstream = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.TooManyRequests));

        using var response = await Send(upstream, new RecordingTimeProvider(), HttpMethod.Post, RemoteRetry.NotRepeatable);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task A_transport_failure_of_a_repeatable_call_is_retried_and_of_a_post_is_not()
    {
        var get = new ScriptedHandler(n => n < 3 ? throw new HttpRequestException("reset", null, HttpStatusCode.BadGateway) : new HttpResponseMessage(HttpStatusCode.OK));
        using (var ok = await Send(get, new RecordingTimeProvider(), HttpMethod.Get))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var post = new ScriptedHandler(_ => throw new HttpRequestException("reset mid-way"));
        await Assert.ThrowsAsync<HttpRequestException>(() => Send(post, new RecordingTimeProvider(), HttpMethod.Post));
        Assert.Equal(3, get.Calls);
        Assert.Equal(1, post.Calls);
    }

    [Fact]
    public async Task Cancelling_the_call_stops_the_retries()
    {
        using var cancel = new CancellationTokenSource();
        var upstream = new ScriptedHandler(n =>
        {
            if (n == 2)
            {
                cancel.Cancel();
            }

            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        });
        var pipeline = RemoteRetry.CreateHttpPipeline(Fast, "test", timeProvider: new RecordingTimeProvider());
        using var http = new HttpClient(upstream);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            pipeline.SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:9/x"), HttpCompletionOption.ResponseContentRead, cancel.Token));
        Assert.Equal(2, upstream.Calls);
    }

    [Fact]
    public void Invalid_settings_are_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => RemoteRetry.CreateHttpOptions(new RemoteRetryOptions { MaxAttempts = 0 }, "test"));
        Assert.Contains("MaxAttempts", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The call sites of the host's service container: the index owner's client retries through the policy (its retry
    /// is counted under its name on the policy's meter) and the plugins' client has no handler of its own, because
    /// every plugin runs its calls through the same policy and a second layer would multiply attempts.
    /// </summary>
    [Fact]
    public async Task The_hosts_outbound_clients_use_the_one_policy_and_the_plugin_client_adds_no_second_layer()
    {
        var calls = 0;
        var app = WebApplication.CreateSlimBuilder();
        app.WebHost.UseUrls("http://127.0.0.1:0");
        await using var server = app.Build();
        server.Run(context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) % 2 == 1 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        await server.StartAsync();
        var url = server.Urls.First();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIndexOwnerClient(new IndexOwnerOptions { Endpoint = url, Retry = new RemoteRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5) } });
        services.AddPluginHttpClient();
        await using var provider = services.BuildServiceProvider();
        var retries = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RemoteRetry.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "service")
                {
                    lock (retries)
                    {
                        retries.Add((string)tag.Value!);
                    }
                }
            }
        });
        listener.Start();

        await provider.GetRequiredService<IndexOwnerClient>().SendAsync(HttpMethod.Post, "vectors/embedded/docs/upsert", new { }, CancellationToken.None);
        Assert.Equal(2, calls);
        Assert.Contains(IndexOwnerClient.HttpClientName, retries);

        using var plugin = provider.GetRequiredService<IHttpClientFactory>().CreateClient(PluginHost.HttpClientName);
        using var once = await plugin.GetAsync(new Uri(new Uri(url), "/plugin"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, once.StatusCode);
        Assert.Equal(3, calls);
        await server.StopAsync();
    }

    private static async Task<HttpResponseMessage> Send(ScriptedHandler upstream, TimeProvider clock, HttpMethod method, HttpRequestOptionsKey<bool>? mark = null)
    {
        var pipeline = RemoteRetry.CreateHttpPipeline(Fast, "test", timeProvider: clock);
        using var http = new HttpClient(upstream);
        return await pipeline.SendAsync(
            http,
            () =>
            {
                var request = new HttpRequestMessage(method, "http://127.0.0.1:9/x");
                if (mark is { } key)
                {
                    request.Options.Set(key, true);
                }

                return request;
            },
            HttpCompletionOption.ResponseContentRead,
            CancellationToken.None);
    }

    private sealed class ScriptedHandler(Func<int, HttpResponseMessage> answer) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = answer(Interlocked.Increment(ref _calls));
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }
}
