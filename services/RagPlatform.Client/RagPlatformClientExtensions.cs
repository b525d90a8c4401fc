using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;

namespace RagPlatform.Client;

public static class RagPlatformClientExtensions
{
    /// <summary>
    /// Registers <see cref="RagPlatformClient"/> as a typed client of <c>IHttpClientFactory</c> with the API key, the
    /// timeout and the retry strategy of <see cref="RagPlatformRetry"/>. The returned builder takes more handlers.
    /// </summary>
    public static IHttpClientBuilder AddRagPlatformClient(this IServiceCollection services, Action<RagPlatformClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RagPlatformClientOptions>().Configure(configure).Validate(o => !o.Validate().Any(), "Invalid RagPlatformClientOptions.");
        return AddClient(services);
    }

    /// <summary>As <see cref="AddRagPlatformClient(IServiceCollection, Action{RagPlatformClientOptions})"/>, bound from
    /// <c>RagPlatform:Client</c> (BaseAddress, ApiKey, Timeout, MaxRetries, RetryDelay, MaxRetryDelay).</summary>
    public static IHttpClientBuilder AddRagPlatformClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RagPlatformClientOptions>().Bind(configuration.GetSection(RagPlatformClientOptions.SectionName))
            .Validate(o => !o.Validate().Any(), "Invalid RagPlatformClientOptions (RagPlatform:Client).");
        return AddClient(services);
    }

    private static IHttpClientBuilder AddClient(IServiceCollection services)
    {
        var builder = services.AddHttpClient<RagPlatformClient>((sp, http) => Configure(http, sp.GetRequiredService<IOptions<RagPlatformClientOptions>>().Value));
        builder.AddResilienceHandler("ragplatform-retry", (pipeline, context) =>
            pipeline.AddRetry(RagPlatformRetry.CreateOptions(context.ServiceProvider.GetRequiredService<IOptions<RagPlatformClientOptions>>().Value)));
        return builder;
    }

    internal static void Configure(HttpClient http, RagPlatformClientOptions options)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(RagPlatformClientOptions), typeof(RagPlatformClientOptions), problems);
        }

        var server = options.BaseAddress!;
        // A trailing slash makes relative paths resolve under a path prefix (a server behind a reverse proxy).
        http.BaseAddress = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        http.Timeout = options.Timeout;
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey.Trim());
        }
    }
}
