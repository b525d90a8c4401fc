using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Core.Plugins;

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
    /// The index owner's client: its base address and credentials, and the standard resilience handler with the
    /// attempt timeout of <see cref="IndexOwnerOptions.TimeoutSeconds"/> (a search or an upsert of a large batch may
    /// take longer than the handler's 10 s default). Its retries are safe: every owner write is an upsert by id.
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
            .AddStandardResilienceHandler(resilience =>
            {
                resilience.AttemptTimeout.Timeout = attempt;
                resilience.TotalRequestTimeout.Timeout = attempt * 3;
                resilience.CircuitBreaker.SamplingDuration = attempt * 2;
            });
        services.AddSingleton<IndexOwnerClient>();
        return services;
    }

    /// <summary>
    /// The client plugins make their outbound calls with (<see cref="Sdk.PluginContext.CreateHttpClient"/>): pooled
    /// connections that follow DNS changes, service discovery and HttpClient telemetry, but no resilience handler:
    /// every remote plugin retries by its own policy (the OpenAI provider's knows its key pool and the service's rate
    /// windows), and a second layer of retries under it would multiply every attempt.
    /// </summary>
    public static IServiceCollection AddPluginHttpClient(this IServiceCollection services)
    {
        services.AddHttpClient(PluginHost.HttpClientName).RemoveAllResilienceHandlers();
        return services;
    }
}
