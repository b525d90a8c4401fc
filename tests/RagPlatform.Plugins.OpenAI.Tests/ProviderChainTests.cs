using System.Net.Http.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>Fallback, routing and budget: the host composes providers only within one vector space.</summary>
public sealed class ProviderChainTests : IAsyncLifetime
{
    private FaultServer _primary = null!;
    private FaultServer _gateway = null!;

    public async Task InitializeAsync()
    {
        _primary = await FaultServer.StartAsync();
        _gateway = await FaultServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    private static object[] Documents(int count) =>
        Enumerable.Range(0, count).Select(i => (object)new { id = $"d{i}", text = $"대체 경로 시험 문서 {i}번의 본문입니다." }).ToArray();

    private Dictionary<string, string?> DirectWithGateway()
    {
        var settings = OpenAIPlatform.Provider("openai", _primary, TestProviders.KeyOne);
        foreach (var (key, value) in OpenAIPlatform.Provider("openai-gateway", _gateway, TestProviders.KeyTwo))
        {
            settings[key] = value;
        }

        settings["RagPlatform:Embedding:Provider"] = "openai";
        settings["RagPlatform:Embedding:Providers:openai:MaxAttempts"] = "2";
        settings["RagPlatform:Embedding:Providers:openai:Fallback:0"] = "openai-gateway";
        return settings;
    }

    [Fact]
    public async Task When_OpenAI_is_down_a_gateway_of_the_same_model_embeds_into_the_same_collection()
    {
        await using var platform = new OpenAIPlatform(DirectWithGateway());
        using var client = platform.CreateClient();
        var first = await client.IngestAsync("chain", Documents(10));
        _primary.AlwaysFail = true;

        var second = await client.IngestAsync("chain", Documents(20));

        Assert.Equal(JobStates.Completed, first.State);
        Assert.Equal(JobStates.Completed, second.State);
        Assert.Equal(10, second.ChunksEmbedded);
        Assert.Equal(10, _gateway.EmbeddedTexts.Count);
        var stats = (await client.GetFromJsonAsync<CollectionStats>("/v1/collections/chain", OpenAIPlatform.Json))!;
        Assert.Equal("openai/test-embedding@1;dim=64;pool=provider;norm=l2", stats.ModelFingerprint);
        Assert.Equal(20, stats.Chunks);
    }

    [Fact]
    public async Task A_fallback_to_another_model_is_refused_at_start_up()
    {
        var settings = DirectWithGateway();
        settings["RagPlatform:Embedding:Providers:openai:Fallback:0"] = "hashing";
        await using var platform = new OpenAIPlatform(settings);

        var error = Assert.ThrowsAny<Exception>(() => platform.CreateClient());

        Assert.Contains("different vector space", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("re-index", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queries_route_to_one_provider_and_documents_to_another_of_the_same_model()
    {
        var settings = DirectWithGateway();
        settings.Remove("RagPlatform:Embedding:Providers:openai:Fallback:0");
        settings["RagPlatform:Embedding:Providers:openai:Routes:Query"] = "openai-gateway";
        await using var platform = new OpenAIPlatform(settings);
        using var client = platform.CreateClient();

        await client.IngestAsync("routes", Documents(5));
        using var search = await client.PostAsJsonAsync("/v1/collections/routes/search", new { query = "시험 문서 3번", topK = 3, mode = "dense" });

        Assert.True(search.IsSuccessStatusCode, await search.Content.ReadAsStringAsync());
        Assert.Equal(5, _primary.EmbeddedTexts.Count);
        Assert.Equal(["시험 문서 3번"], _gateway.EmbeddedTexts.Keys);
    }

    [Fact]
    public async Task A_spent_budget_stops_paid_indexing_keeps_search_and_sends_new_collections_to_the_local_provider()
    {
        var settings = OpenAIPlatform.Provider("openai", _primary, TestProviders.KeyOne);
        settings["RagPlatform:Embedding:Provider"] = "openai";
        settings["RagPlatform:Embedding:Providers:openai:PricePer1KTokens"] = "10";
        settings["RagPlatform:Embedding:Budget:MonthlyLimit"] = "0.5";
        settings["RagPlatform:Embedding:Budget:WhenExceeded"] = "LocalForNewCollections";
        await using var platform = new OpenAIPlatform(settings);
        using var client = platform.CreateClient();

        var paid = await client.IngestAsync("paid", Documents(20));
        var usage = await client.UsageAsync();
        var refused = await client.IngestAsync("paid", new[] { new { id = "late", text = "예산 소진 뒤의 문서" } });
        using var search = await client.PostAsJsonAsync("/v1/collections/paid/search", new { query = "시험 문서", topK = 3 });
        var local = await client.IngestAsync("fresh", Documents(3));
        var fresh = (await client.GetFromJsonAsync<CollectionStats>("/v1/collections/fresh", OpenAIPlatform.Json))!;

        Assert.Equal(JobStates.Completed, paid.State);
        Assert.True(usage.Budget.Exceeded, $"spent {usage.Budget.Spent}");
        Assert.True(usage.Budget.Spent >= 0.5m);
        Assert.Equal(JobStates.Failed, refused.State);
        Assert.Contains("budget", Assert.Single(refused.Errors).Error, StringComparison.Ordinal);
        Assert.True(search.IsSuccessStatusCode, await search.Content.ReadAsStringAsync());
        Assert.Equal(JobStates.Completed, local.State);
        Assert.StartsWith("hashing/", fresh.ModelFingerprint, StringComparison.Ordinal);
    }
}
