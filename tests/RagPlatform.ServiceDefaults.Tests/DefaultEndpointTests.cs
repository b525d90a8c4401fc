using System.Net;

namespace RagPlatform.ServiceDefaults.Tests;

public sealed class DefaultEndpointTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task Health_alive_and_metrics_answer_in_every_environment(string environment)
    {
        var (app, url) = await TestService.StartAsync(new Dictionary<string, string?>(), environment);
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = url };
            Assert.Equal("pong", await client.GetStringAsync("/ping/metrics"));

            var health = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());

            var alive = await client.GetAsync("/alive");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync());

            var metrics = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("# TYPE ragplatform_test_pings_total counter", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
            await app.StopAsync();
        }
    }
}
