using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RagPlatform.ServiceDefaults.Tests;

public sealed class ResilienceHandlerTests
{
    private readonly CapturingLoggerProvider _logs = new();

    [Fact]
    public async Task A_503_is_retried_and_the_success_returned()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((503, null), (503, null));
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.Bodies.Count);
    }

    [Fact]
    public async Task Retry_After_from_the_server_sets_the_wait_instead_of_the_backoff()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((429, "1"));
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.Bodies.Count);
        // The backoff here is 1 ms; only the server's Retry-After: 1 gives a 1000 ms wait.
        Assert.Contains(_logs.Messages, m => m.Contains("(429); retrying in 1000 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Retry_After_longer_than_allowed_returns_the_response_without_waiting()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((503, "3600"));
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(upstream.Bodies);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts_and_the_last_response_is_returned()
    {
        await using var upstream = await ScriptedUpstream.AlwaysAsync(503);
        using var services = Services(o => o.MaxRetryAttempts = 2);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, upstream.Bodies.Count);
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        await using var upstream = await ScriptedUpstream.AlwaysAsync(400);
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(upstream.Bodies);
    }

    [Fact]
    public async Task A_buffered_body_is_sent_whole_on_every_attempt()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((503, null));
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.PostAsync(upstream.Url, new StringContent("{\"text\":\"한국어 본문\"}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["{\"text\":\"한국어 본문\"}", "{\"text\":\"한국어 본문\"}"], upstream.Bodies.ToArray());
    }

    [Fact]
    public async Task A_forward_only_stream_body_gets_one_attempt_rather_than_an_empty_resend()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((503, null));
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();
        using var body = new ForwardOnlyStream("streamed body"u8.ToArray());

        using var response = await client.PostAsync(upstream.Url, new StreamContent(body));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(["streamed body"], upstream.Bodies.ToArray());
    }

    [Fact]
    public async Task The_OTLP_exporter_clients_are_left_alone()
    {
        await using var upstream = await ScriptedUpstream.AlwaysAsync(503);
        using var services = Services();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("OtlpTraceExporter");

        using var response = await client.GetAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(upstream.Bodies);
    }

    [Fact]
    public async Task An_unreachable_server_is_retried_then_the_connection_error_surfaces()
    {
        using var services = Services(o => o.MaxRetryAttempts = 2);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient();
        var closedPort = new Uri("http://127.0.0.1:" + Loopback.FreePort());

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(closedPort));
        Assert.Equal(2, _logs.Messages.Count(m => m.Contains("(HttpRequestException); retrying", StringComparison.Ordinal)));
    }

    private ServiceProvider Services(Action<StandardHttpResilienceOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        services.AddStandardHttpResilience(o =>
        {
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
            configure?.Invoke(o);
        });
        services.AddHttpClient("upstream");
        return services.BuildServiceProvider();
    }

    /// <summary>A body that can be read once, front to back (a network or pipe stream).</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }

        public override long Length => throw new NotSupportedException();
    }
}
