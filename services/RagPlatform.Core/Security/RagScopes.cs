using Microsoft.AspNetCore.Builder;

namespace RagPlatform.Core.Security;

/// <summary>What a key may do. <c>admin</c> may do everything.</summary>
public static class RagScopes
{
    public const string Ingest = "ingest";
    public const string Query = "query";
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> All = new HashSet<string>([Ingest, Query, Admin], StringComparer.Ordinal);

    /// <summary>Callers need one of <paramref name="scopes"/> (or admin). An endpoint without this metadata needs admin.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, params string[] scopes)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequiredScopes(scopes));
        return builder;
    }
}

/// <summary>Endpoint metadata: the scopes that may call it. See <see cref="RagScopes.RequireScope"/>.</summary>
public sealed record RequiredScopes(IReadOnlyList<string> Scopes);
