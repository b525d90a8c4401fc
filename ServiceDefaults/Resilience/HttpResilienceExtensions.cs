using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.Hosting;

public static class HttpResilienceExtensions
{
    /// <summary>
    /// Puts a <see cref="StandardResilienceHandler"/> on every HttpClientFactory client (the template's
    /// <c>ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler())</c>): outermost of the
    /// client's own handlers, one pipeline (so one circuit breaker) per client name.
    /// </summary>
    public static IServiceCollection AddStandardHttpResilience(this IServiceCollection services, Action<StandardHttpResilienceOptions>? configure = null)
    {
        services.AddOptions<StandardHttpResilienceOptions>().ValidateDataAnnotations();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(ResiliencePipelines)))
        {
            return services;
        }

        services.AddHttpClient();
        services.AddSingleton<ResiliencePipelines>();

        // What ConfigureHttpClientDefaults does, but knowing each client's name (for the exclusions and the
        // per-client pipeline). Registered before named clients configure theirs, so it runs first.
        services.AddSingleton<IConfigureOptions<HttpClientFactoryOptions>, ResilienceHandlerSetup>();
        return services;
    }

    private sealed class ResilienceHandlerSetup(IOptions<StandardHttpResilienceOptions> options, ResiliencePipelines pipelines)
        : IConfigureNamedOptions<HttpClientFactoryOptions>
    {
        public void Configure(HttpClientFactoryOptions clientOptions) => Configure(Microsoft.Extensions.Options.Options.DefaultName, clientOptions);

        public void Configure(string? name, HttpClientFactoryOptions clientOptions)
        {
            var clientName = name ?? Microsoft.Extensions.Options.Options.DefaultName;
            if (options.Value.ExcludedClientNamePrefixes.Any(p => clientName.StartsWith(p, StringComparison.Ordinal)))
            {
                return;
            }

            clientOptions.HttpMessageHandlerBuilderActions.Add(handlers =>
                handlers.AdditionalHandlers.Insert(0, new StandardResilienceHandler(pipelines.For(clientName))));
        }
    }

    /// <summary>One pipeline per client name, shared by every handler the factory rotates through.</summary>
    internal sealed class ResiliencePipelines(IOptions<StandardHttpResilienceOptions> options, ILoggerFactory loggers)
    {
        private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new(StringComparer.Ordinal);

        public ResiliencePipeline<HttpResponseMessage> For(string clientName) =>
            _pipelines.GetOrAdd(clientName, name => StandardResilienceHandler.CreatePipeline(
                options.Value, loggers.CreateLogger("RagPlatform.Http.Resilience." + (name.Length == 0 ? "default" : name))));
    }
}
