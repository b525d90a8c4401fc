using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk.Remote;
using Microsoft.Extensions.Logging;
using Polly;

// RemoveAllResilienceHandlers is marked experimental; it is how a client replaces the handler that
// ConfigureHttpClientDefaults gives every client (options of the defaults' handler cannot be set per client).
#pragma warning disable EXTEXP0001

namespace RagPlatform.Core.Hosting;

/// <summary>
/// The services' outbound HTTP clients, all made by <see cref="IHttpClientFactory"/> so that what ServiceDefaults puts
/// on every client (the standard resilience handler, service discovery, HttpClient telemetry) applies to them.
/// </summary>
internal static class HttpClientRegistrations
{
    /// <summary>
    /// The index owner's client: its base address and credentials, and in place of the standard resilience handler
    /// ServiceDefaults gives every client, the same strategies built on RagPlatform's one retry policy
    /// (<see cref="RemoteRetry"/>): a total timeout, the retry, a circuit breaker and the attempt timeout of
    /// <see cref="IndexOwnerOptions.TimeoutSeconds"/> (a search or an upsert of a large batch may take longer than the
    /// standard 10 s). Its retries are safe: every owner call is a read or an upsert or delete by id, and
    /// <see cref="IndexOwnerClient"/> marks them <see cref="RemoteRetry.Repeatable"/>.
    /// </summary>
    public static IServiceCollection AddIndexOwnerClient(this IServiceCollection services, IndexOwnerOptions owner)
    {
        var attempt = TimeSpan.FromSeconds(owner.TimeoutSeconds);
        services.AddHttpClient(IndexOwnerClient.HttpClientName, http =>
            {
                http.BaseAddress = IndexOwnerClient.BaseAddress(owner.Endpoint!);
                if (!string.IsNullOrWhiteSpace(owner.ApiKey))
                {
                    // The owner's internal endpoints declare no scope, so they need an admin key when keys are on.
                    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.ApiKey.Trim());
                }
            })
            .RemoveAllResilienceHandlers()
            .AddResilienceHandler(RemoteRetry.HandlerName, (pipeline, context) => pipeline
                .AddTimeout(attempt * 3)
                .AddRetry(RemoteRetry.CreateHttpOptions(
                    owner.Retry, IndexOwnerClient.HttpClientName, context.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger<IndexOwnerClient>()))
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions { SamplingDuration = attempt * 2 })
                .AddTimeout(attempt));
        services.AddSingleton<IndexOwnerClient>();
        return services;
    }

    /// <summary>
    /// The client plugins make their outbound calls with (<see cref="Sdk.PluginContext.CreateHttpClient"/>): pooled
    /// connections that follow DNS changes, service discovery and HttpClient telemetry, but no resilience handler:
    /// every remote plugin retries through the same policy (<see cref="RemoteRetry"/>) around its own calls, where it
    /// knows what is safe to repeat and what a failure means (the OpenAI provider rotates its key pool on a 429; a gRPC
    /// call has no HTTP status for a handler to read), and a second layer of retries under it would multiply every attempt.
    /// </summary>
    public static IServiceCollection AddPluginHttpClient(this IServiceCollection services)
    {
        services.AddHttpClient(PluginHost.HttpClientName).RemoveAllResilienceHandlers();
        return services;
    }
}
