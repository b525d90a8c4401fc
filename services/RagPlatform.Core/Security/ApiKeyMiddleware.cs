using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagPlatform.Core.Security;

/// <summary>
/// Authenticates every request by API key (<c>Authorization: Bearer</c> or <c>api-key</c>) and enforces the
/// endpoint's scopes and, for <c>/v1/collections/{name}…</c>, the key's collections. Fails closed: an
/// endpoint that declares no scopes needs <c>admin</c>, so a new endpoint cannot slip through open. With no
/// keys configured, loopback callers act as admin and everyone else is refused.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, IOptionsMonitor<SecurityOptions> options, ILogger<ApiKeyMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            // No endpoint: the router answers 404 without touching any data. AllowAnonymous: /health and /alive.
            await next(context);
            return;
        }

        var keys = options.CurrentValue.Keys;
        if (keys.Count == 0)
        {
            if (!IsLoopback(context.Connection))
            {
                await RefuseAsync(context, problems, StatusCodes.Status401Unauthorized,
                    "No API keys are configured (RagPlatform:Security:Keys), so only loopback clients are served.");
                return;
            }

            context.User = CallerIdentity.Create("none", CallerIdentity.LocalClient, RagScopes.All, null);
        }
        else
        {
            var presented = PresentedKey(context.Request);
            if (presented is null)
            {
                await RefuseAsync(context, problems, StatusCodes.Status401Unauthorized,
                    "An API key is required: send 'Authorization: Bearer <key>' or 'api-key: <key>'.");
                return;
            }

            var entry = Find(keys, presented);
            if (entry is null)
            {
                logger.LogWarning("Refused {Method} {Path}: unknown, revoked or expired API key (id {KeyId})",
                    context.Request.Method, context.Request.Path, ApiKeys.IdOf(presented) ?? "malformed");
                await RefuseAsync(context, problems, StatusCodes.Status401Unauthorized, "The API key is invalid, revoked or expired.");
                return;
            }

            context.User = CallerIdentity.Create(entry.Id, entry.Client ?? entry.Id, entry.Scopes, entry.Collections);
        }

        var required = endpoint.Metadata.GetMetadata<RequiredScopes>()?.Scopes ?? [RagScopes.Admin];
        if (!required.Any(context.User.HasScope))
        {
            await RefuseAsync(context, problems, StatusCodes.Status403Forbidden,
                $"This API key lacks the scope this endpoint needs ({string.Join(" or ", required)}).");
            return;
        }

        if (context.GetRouteValue("name") is string collection
            && context.Request.Path.StartsWithSegments("/v1/collections", StringComparison.Ordinal)
            && !context.User.CanAccessCollection(collection))
        {
            await RefuseAsync(context, problems, StatusCodes.Status403Forbidden, $"This API key has no access to collection '{collection}'.");
            return;
        }

        await next(context);
    }

    private static ApiKeyOptions? Find(List<ApiKeyOptions> keys, string presented)
    {
        var id = ApiKeys.IdOf(presented);
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in keys)
        {
            if (id is not null && string.Equals(entry.Id, id, StringComparison.Ordinal) && ApiKeys.Matches(presented, entry.Hash))
            {
                return entry.Revoked || entry.ExpiresAt <= now ? null : entry;
            }
        }

        return null;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization[7..].Trim();
            return token.Length > 0 ? token : null;
        }

        var header = request.Headers["api-key"].ToString().Trim();
        return header.Length > 0 ? header : null;
    }

    // TestServer (in-process tests) has no connection addresses: that is not a network client either.
    private static bool IsLoopback(ConnectionInfo connection) =>
        connection.RemoteIpAddress is null || IPAddress.IsLoopback(connection.RemoteIpAddress);

    private static async Task RefuseAsync(HttpContext context, IProblemDetailsService problems, int status, string detail)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = status == StatusCodes.Status401Unauthorized ? "Unauthorized." : "Forbidden.",
                Detail = detail,
            },
        });
    }
}
