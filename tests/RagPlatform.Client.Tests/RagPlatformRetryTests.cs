using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Retry;

namespace RagPlatform.Client.Tests;

/// <summary>The retry strategy's decisions, without a server: how long it waits and what it repeats.</summary>
public sealed class RagPlatformRetryTests
{
    private static readonly RagPlatformClientOptions Options = new() { BaseAddress = new Uri("http://127.0.0.1:1"), MaxRetryDelay = TimeSpan.FromSeconds(30) };

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3600, 30)]
    public async Task Retry_After_is_waited_up_to_MaxRetryDelay(int retryAfterSeconds, int expectedSeconds)
    {
        using var response = Answer(HttpStatusCode.TooManyRequests, HttpMethod.Post);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));

        var delay = await RagPlatformRetry.CreateOptions(Options).DelayGenerator!(
            new RetryDelayGeneratorArguments<HttpResponseMessage>(ResilienceContextPool.Shared.Get(), Outcome.FromResult(response), 0));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, "POST", true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "POST", true)]
    [InlineData(HttpStatusCode.BadGateway, "GET", true)]
    [InlineData(HttpStatusCode.BadGateway, "POST", false)]
    [InlineData(HttpStatusCode.InternalServerError, "GET", true)]
    [InlineData(HttpStatusCode.InternalServerError, "POST", false)]
    [InlineData(HttpStatusCode.BadRequest, "PUT", false)]
    public async Task Only_answers_that_are_safe_to_repeat_are_retried(HttpStatusCode status, string method, bool retried)
    {
        using var response = Answer(status, new HttpMethod(method));

        var decision = await RagPlatformRetry.CreateOptions(Options).ShouldHandle(
            new RetryPredicateArguments<HttpResponseMessage>(ResilienceContextPool.Shared.Get(), Outcome.FromResult(response), 0));

        Assert.Equal(retried, decision);
    }

    [Fact]
    public async Task A_streamed_upload_is_never_repeated()
    {
        using var response = Answer(HttpStatusCode.TooManyRequests, HttpMethod.Post);
        response.RequestMessage!.Options.Set(RagPlatformRetry.NotRepeatable, true);

        Assert.False(await RagPlatformRetry.CreateOptions(Options).ShouldHandle(
            new RetryPredicateArguments<HttpResponseMessage>(ResilienceContextPool.Shared.Get(), Outcome.FromResult(response), 0)));
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, HttpMethod method) =>
        new(status) { RequestMessage = new HttpRequestMessage(method, "http://127.0.0.1:1/v1/collections") };
}
