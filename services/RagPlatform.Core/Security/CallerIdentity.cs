using System.Security.Claims;

namespace RagPlatform.Core.Security;

/// <summary>The caller as the API-key middleware established it, read back from <see cref="ClaimsPrincipal"/>.</summary>
public static class CallerIdentity
{
    public const string AuthenticationType = "ApiKey";
    public const string KeyIdClaim = "rag:key_id";
    public const string ClientClaim = "rag:client";
    public const string ScopeClaim = "rag:scope";
    public const string CollectionClaim = "rag:collection";
    public const string LocalClient = "loopback";

    public static ClaimsPrincipal Create(string keyId, string client, IEnumerable<string> scopes, IEnumerable<string>? collections)
    {
        var claims = new List<Claim> { new(KeyIdClaim, keyId), new(ClientClaim, client) };
        claims.AddRange(scopes.Select(s => new Claim(ScopeClaim, s)));
        if (collections is not null)
        {
            claims.AddRange(collections.Select(c => new Claim(CollectionClaim, c)));
            // Marks "limited" even when the list is empty: an empty list allows nothing, not everything.
            claims.Add(new Claim(CollectionClaim + ":limited", "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, ClientClaim, null));
    }

    /// <summary>Who the rate limits count against: a client's keys share its limits.</summary>
    public static string? Client(this ClaimsPrincipal user) => user.FindFirst(ClientClaim)?.Value;

    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(ScopeClaim, RagScopes.Admin) || user.HasClaim(ScopeClaim, scope);

    /// <summary>False when the caller's key is limited to other collections.</summary>
    public static bool CanAccessCollection(this ClaimsPrincipal user, string collection) =>
        !user.HasClaim(CollectionClaim + ":limited", "true") || user.HasClaim(CollectionClaim, collection);
}
