using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.IndexOwner;

namespace RagPlatform.Core.Tests;

/// <summary>
/// The index owner's client is an IHttpClientFactory client with the one retry policy (RemoteRetry): what the owner
/// answers while it restarts or is busy is retried, and every call carries the owner's base path and credentials.
/// </summary>
public sealed class IndexOwnerClientTests
{
    [Fact]
    public async Task Answers_503_from_the_owner_are_retried_by_the_one_retry_policy_and_the_answer_comes_back()
    {
        var requests = new List<(string Path, string? Authorization)>();
        await using var owner = await StartOwnerAsync(context =>
        {
            lock (requests)
            {
                requests.Add((context.Request.Path.Value!, context.Request.Headers.Authorization.ToString()));
                context.Response.StatusCode = requests.Count <= 2 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            }

            return context.Response.StatusCode == StatusCodes.Status200OK
                ? context.Response.WriteAsJsonAsync(new { count = 7 })
                : Task.CompletedTask;
        });
        await using var services = Services(owner.Url, apiKey: "owner-admin-key");

        var answer = await services.GetRequiredService<IndexOwnerClient>()
            .SendAsync<CountResponse>(HttpMethod.Post, "vectors/embedded/docs/count", new CountRequest(null), CancellationToken.None);

        Assert.Equal(7, answer!.Count);
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal("/internal/index/vectors/embedded/docs/count", r.Path);
            Assert.Equal("Bearer owner-admin-key", r.Authorization);
        });
    }

    [Fact]
    public async Task A_refusal_of_the_owner_is_not_retried_and_becomes_the_local_exception()
    {
        var requests = 0;
        await using var owner = await StartOwnerAsync(context =>
        {
            Interlocked.Increment(ref requests);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsJsonAsync(new IndexOwnerError(IndexOwnerError.CollectionNotFound, "no such collection", "docs"));
        });
        await using var services = Services(owner.Url, apiKey: null);

        await Assert.ThrowsAsync<RagPlatform.Sdk.VectorCollectionNotFoundException>(() => services.GetRequiredService<IndexOwnerClient>()
            .SendAsync<CountResponse>(HttpMethod.Post, "vectors/embedded/docs/count", new CountRequest(null), CancellationToken.None));
        Assert.Equal(1, requests);
    }

    private static ServiceProvider Services(Uri owner, string? apiKey)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        // Short waits for the test, set as any host may (RagPlatform:IndexOwner:Retry).
        services.AddIndexOwnerClient(new IndexOwnerOptions
        {
            Endpoint = owner.ToString(),
            ApiKey = apiKey,
            TimeoutSeconds = 10,
            Retry = new RagPlatform.Sdk.Remote.RemoteRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10) },
        });
        return services.BuildServiceProvider();
    }

    private static async Task<Owner> StartOwnerAsync(RequestDelegate answer)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(answer);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Owner(app, new Uri(address));
    }

    private sealed record Owner(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
