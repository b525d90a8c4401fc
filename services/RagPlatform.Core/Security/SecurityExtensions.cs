using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;

namespace RagPlatform.Core.Security;

public static class SecurityExtensions
{
    /// <summary>The policy name of the embedding endpoint's concurrency cap.</summary>
    public const string EmbeddingConcurrencyPolicy = "embeddings";

    /// <summary>API keys, per-client request and ingest-byte limits, the embedding concurrency cap, and the
    /// start-up check that refuses a non-loopback binding without keys.</summary>
    public static IHostApplicationBuilder AddRagSecurity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<SecurityOptions, SecurityOptionsValidator>(builder.Configuration, SecurityOptions.SectionName)
            .Validate(o => o.Keys.All(k => k.Id.Length > 0 && k.Hash.StartsWith("sha256:", StringComparison.Ordinal)
                    && k.Scopes.All(RagScopes.All.Contains)),
                "Every RagPlatform:Security:Keys entry needs an Id, a Hash 'sha256:<hex>' (rag keys create) and scopes among ingest, query, admin.");
        services.AddSingleton<IngestByteBudget>();
        services.AddHostedService<BindingCheck>();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue.RateLimits;
                // Limits are per key: without keys (loopback only) every caller is this machine, services included.
                if (limits.RequestsPerWindow == 0 || context.User.Client() == CallerIdentity.LocalClient
                    || context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var client = context.User.Client() ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.RequestsPerWindow,
                    Window = TimeSpan.FromSeconds(limits.WindowSeconds),
                    QueueLimit = 0,
                });
            });
            limiter.AddPolicy(EmbeddingConcurrencyPolicy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue.RateLimits;
                return RateLimitPartition.GetConcurrencyLimiter("embeddings", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = limits.EmbeddingConcurrency,
                    QueueLimit = limits.EmbeddingQueue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
            });
            limiter.OnRejected = (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                return WriteTooManyRequestsAsync(rejected.HttpContext, retryAfter, "Too many requests for this API key; retry after the Retry-After delay.");
            };
        });
        return builder;
    }

    /// <summary>After routing and error handling: authentication and scopes first, then the per-client limits
    /// (which count by the authenticated client).</summary>
    public static WebApplication UseRagPlatformSecurity(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RagPlatform.Security");
        if (options.Keys.Count == 0)
        {
            logger.LogWarning("RagPlatform is running WITHOUT API keys: only loopback clients are served, with every scope. " +
                "Configure RagPlatform:Security:Keys (rag keys create) before exposing it beyond this machine.");
        }
        else
        {
            logger.LogInformation("API keys required: {Count} configured ({Active} active)", options.Keys.Count, options.Keys.Count(k => !k.Revoked));
        }

        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();
        return app;
    }

    private static async ValueTask WriteTooManyRequestsAsync(HttpContext context, TimeSpan retryAfter, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests.", Detail = detail },
        });
    }

    /// <summary>Refuses to serve on a non-loopback address without keys: a platform holding a company's
    /// documents must not be open to the network by accident.</summary>
    private sealed class BindingCheck(IServer server, IOptionsMonitor<SecurityOptions> options, IHostApplicationLifetime lifetime, ILogger<BindingCheck> logger)
        : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(() =>
            {
                var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                var exposed = addresses.Where(a => !IsLoopbackAddress(a)).ToList();
                if (options.CurrentValue.Keys.Count == 0 && exposed.Count > 0)
                {
                    logger.LogCritical("Listening on {Addresses} without API keys. Configure RagPlatform:Security:Keys (rag keys create) " +
                        "or bind to 127.0.0.1 only. Stopping.", string.Join(", ", exposed));
                    Environment.ExitCode = 78;
                    lifetime.StopApplication();
                }
            });
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private static bool IsLoopbackAddress(string address)
        {
            if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                return false;
            }

            return string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        }
    }
}

/// <summary>Bytes of documents each client may post per window (<c>RateLimits:IngestBytesPerWindow</c>).</summary>
public sealed class IngestByteBudget(IOptionsMonitor<SecurityOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(client =>
    {
        var limits = options.CurrentValue.RateLimits;
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, limits.IngestBytesPerWindow),
            Window = TimeSpan.FromSeconds(limits.WindowSeconds),
            QueueLimit = 0,
        });
    });

    /// <summary>Charges <paramref name="bytes"/> to the caller; throws <see cref="RateLimitedException"/> when over the budget.</summary>
    public void Charge(HttpContext context, long bytes)
    {
        var limits = options.CurrentValue.RateLimits;
        if (limits.IngestBytesPerWindow == 0 || context.User.Client() == CallerIdentity.LocalClient)
        {
            return;
        }

        var client = context.User.Client() ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
        var permits = (int)Math.Clamp(bytes, 1, limits.IngestBytesPerWindow);
        using var lease = _limiter.AttemptAcquire(client, permits);
        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(limits.WindowSeconds);
            throw new RateLimitedException(retryAfter, string.Create(CultureInfo.InvariantCulture,
                $"This API key posted more than {limits.IngestBytesPerWindow} bytes of documents in {limits.WindowSeconds} s (RagPlatform:Security:RateLimits:IngestBytesPerWindow)."));
        }
    }

    public void Dispose() => _limiter.Dispose();
}
