using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Security;

namespace RagPlatform.Integration.Tests;

/// <summary>The standalone host with API keys configured: keys, scopes, tenancy and per-client limits.</summary>
public sealed class SecuredPlatformFactory : PlatformFactory
{
    public const int RequestsPerWindow = 200;

    public static readonly TestKey Admin = TestKey.Create("ops", RagScopes.Admin);
    public static readonly TestKey TenantAIngest = TestKey.Create("tenant-a-writer", RagScopes.Ingest, collections: ["tenant-a"]);
    public static readonly TestKey TenantAQuery = TestKey.Create("tenant-a-reader", RagScopes.Query, collections: ["tenant-a"]);
    public static readonly TestKey Revoked = TestKey.Create("former", RagScopes.Admin, revoked: true);
    public static readonly TestKey Burst = TestKey.Create("noisy", RagScopes.Query);
    public static readonly TestKey Calm = TestKey.Create("calm", RagScopes.Query);

    private static readonly TestKey[] All = [Admin, TenantAIngest, TenantAQuery, Revoked, Burst, Calm];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        for (var i = 0; i < All.Length; i++)
        {
            var entry = All[i].Entry;
            var prefix = $"{SecurityOptions.SectionName}:Keys:{i}:";
            builder.UseSetting(prefix + "Id", entry.Id);
            builder.UseSetting(prefix + "Client", entry.Client);
            builder.UseSetting(prefix + "Hash", entry.Hash);
            builder.UseSetting(prefix + "Revoked", entry.Revoked ? "true" : "false");
            for (var s = 0; s < entry.Scopes.Count; s++)
            {
                builder.UseSetting($"{prefix}Scopes:{s}", entry.Scopes[s]);
            }

            for (var c = 0; c < (entry.Collections?.Count ?? 0); c++)
            {
                builder.UseSetting($"{prefix}Collections:{c}", entry.Collections![c]);
            }
        }

        builder.UseSetting($"{SecurityOptions.SectionName}:RateLimits:RequestsPerWindow", RequestsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting($"{SecurityOptions.SectionName}:RateLimits:WindowSeconds", "60");
    }

    public HttpClient ClientWith(TestKey? key)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        }

        return client;
    }
}

public sealed record TestKey(string Key, ApiKeyOptions Entry)
{
    public static TestKey Create(string client, string scope, List<string>? collections = null, bool revoked = false)
    {
        var (key, id, hash) = ApiKeys.Create();
        return new TestKey(key, new ApiKeyOptions { Id = id, Client = client, Hash = hash, Scopes = [scope], Collections = collections, Revoked = revoked });
    }
}

public sealed class SecurityTests(SecuredPlatformFactory factory) : IClassFixture<SecuredPlatformFactory>
{
    private static readonly string[] PublicPaths = ["/health", "/alive"];

    [Fact]
    public async Task Every_endpoint_but_health_and_alive_refuses_a_missing_or_revoked_key_and_a_wrong_scope()
    {
        var endpoints = Endpoints();
        Assert.True(endpoints.Count >= 15, $"only {endpoints.Count} endpoints found");
        using var anonymous = factory.ClientWith(null);
        using var revoked = factory.ClientWith(SecuredPlatformFactory.Revoked);
        using var ingestOnly = factory.ClientWith(SecuredPlatformFactory.TenantAIngest);
        using var queryOnly = factory.ClientWith(SecuredPlatformFactory.TenantAQuery);
        foreach (var (method, path, scopes) in endpoints)
        {
            var isPublic = PublicPaths.Contains(path);
            var withoutKey = await SendAsync(anonymous, method, path);
            var withRevoked = await SendAsync(revoked, method, path);
            if (isPublic)
            {
                Assert.Equal(HttpStatusCode.OK, withoutKey.StatusCode);
                continue;
            }

            // The OpenAPI document and the API reference describe the contract, not data: served without a key.
            if (path.StartsWith("/openapi/", StringComparison.Ordinal) || path == "/docs" || path.StartsWith("/docs/", StringComparison.Ordinal))
            {
                Assert.True(withoutKey.StatusCode != HttpStatusCode.Unauthorized, $"{method} {path} without a key: {withoutKey.StatusCode}");
                continue;
            }

            Assert.True(withoutKey.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key: {withoutKey.StatusCode}");
            Assert.True(withoutKey.Headers.WwwAuthenticate.Count > 0, $"{method} {path}: no WWW-Authenticate");
            Assert.True(withRevoked.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with a revoked key: {withRevoked.StatusCode}");

            // A key holding none of the endpoint's scopes is refused (endpoints that declare none need admin).
            var outsider = !scopes.Contains(RagScopes.Ingest) ? ingestOnly : !scopes.Contains(RagScopes.Query) ? queryOnly : null;
            if (outsider is not null)
            {
                var wrongScope = await SendAsync(outsider, method, path);
                Assert.True(wrongScope.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with a key lacking {string.Join('/', scopes)}: {wrongScope.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task A_key_limited_to_one_collection_can_neither_read_list_nor_write_another()
    {
        using var admin = factory.ClientWith(SecuredPlatformFactory.Admin);
        var jobA = await admin.IngestAsync("tenant-a", KoreanSamples.Documents());
        var jobB = await admin.IngestAsync("tenant-b", KoreanSamples.Documents());
        using var writer = factory.ClientWith(SecuredPlatformFactory.TenantAIngest);
        using var reader = factory.ClientWith(SecuredPlatformFactory.TenantAQuery);

        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsJsonAsync("/v1/collections/tenant-a/search", new { query = "금리" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/v1/collections/tenant-b/search", new { query = "금리" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/v1/collections/tenant-b/context", new { query = "금리" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/v1/collections/tenant-b")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.PostAsJsonAsync("/v1/collections/tenant-b/documents", new[] { new { id = "x", text = "침입" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.DeleteAsync("/v1/collections/tenant-b/documents/loan")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.DeleteAsync("/v1/collections/tenant-b")).StatusCode);

        var listed = await reader.GetFromJsonAsync<CollectionList>("/v1/collections");
        Assert.Equal(["tenant-a"], listed!.Collections.Select(c => c.Name));
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync($"/v1/jobs/{jobA.JobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await writer.GetAsync($"/v1/jobs/{jobB.JobId}")).StatusCode);

        // tenant-b is untouched.
        var b = await admin.SearchAsync("tenant-b", new { query = "주택담보대출 금리", topK = 10 });
        Assert.Equal("loan", b.Results[0].DocumentId);
    }

    [Fact]
    public async Task A_burst_over_a_clients_limit_gets_429_with_retry_after_while_other_clients_are_served()
    {
        using var noisy = factory.ClientWith(SecuredPlatformFactory.Burst);
        using var calm = factory.ClientWith(SecuredPlatformFactory.Calm);
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 1000; i += 50)
        {
            statuses.AddRange(await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => noisy.GetAsync("/v1/models"))));
        }

        var refused = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(1000 - SecuredPlatformFactory.RequestsPerWindow, refused.Count);
        Assert.All(refused, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After"));
        Assert.Equal(SecuredPlatformFactory.RequestsPerWindow, statuses.Count(r => r.StatusCode == HttpStatusCode.OK));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync("/v1/models")).StatusCode);
        }
    }

    [Fact]
    public async Task Keys_are_accepted_in_the_api_key_header_too_and_never_echoed()
    {
        using var client = factory.ClientWith(null);
        client.DefaultRequestHeaders.Add("api-key", SecuredPlatformFactory.Calm.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);

        using var wrong = factory.ClientWith(null);
        var forged = SecuredPlatformFactory.Calm.Key[..^4] + "AAAA";
        wrong.DefaultRequestHeaders.Add("api-key", forged);
        var refused = await wrong.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain(forged, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Every endpoint the app maps, from its route table, with a concrete path and its declared scopes.</summary>
    private List<(string Method, string Path, IReadOnlyList<string> Scopes)> Endpoints()
    {
        var sources = factory.Services.GetServices<EndpointDataSource>();
        var found = new List<(string, string, IReadOnlyList<string>)>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "jobId" } => Guid.NewGuid().ToString(),
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "name" } => "tenant-a",
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart => "x",
                _ => "",
            }))));
            var scopes = endpoint.Metadata.GetMetadata<RequiredScopes>()?.Scopes ?? [RagScopes.Admin];
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                found.Add((method, path, scopes));
            }
        }

        return found;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path) =>
        client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method is "POST" or "PUT" ? new StringContent("{}", System.Text.Encoding.UTF8, "application/json") : null,
        });
}
