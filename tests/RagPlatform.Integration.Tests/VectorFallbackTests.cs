using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Plugins;

namespace RagPlatform.Integration.Tests;

/// <summary>The query API's read fallback chain: the collection's backend ("failing", which refuses every search) → embedded.</summary>
public sealed class VectorFallbackTests(VectorFallbackTests.FallbackFactory factory) : IClassFixture<VectorFallbackTests.FallbackFactory>
{
    public sealed class FallbackFactory : PlatformFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RagPlatform:VectorStore:Fallback:0", "embedded");
            builder.UseSetting("RagPlatform:Query:ResultCacheSeconds", "0");
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Search_whose_primary_backend_throws_is_answered_by_the_fallback_holding_the_same_space()
    {
        await PutOnFailingBackendAsync("fallback-copied");
        await _client.IngestAsync("fallback-copied", KoreanSamples.Documents());

        // Keep the fallback current, as `rag migrate` does: the same points, the same spec.
        var plugins = factory.Services.GetRequiredService<PluginHost>();
        var primary = await plugins.GetVectorBackendAsync("failing", default);
        var fallback = await plugins.GetVectorBackendAsync("embedded", default);
        var spec = (await primary.GetCollectionAsync("fallback-copied", CancellationToken.None))!;
        await fallback.EnsureCollectionAsync(spec, CancellationToken.None);
        await fallback.ImportAsync("fallback-copied", primary.ExportAsync("fallback-copied", CancellationToken.None), CancellationToken.None);

        var dense = await _client.SearchAsync("fallback-copied", new { query = "건강검진 전날 금식", topK = 3, mode = "dense" });
        var hybrid = await _client.SearchAsync("fallback-copied", new { query = "주택담보대출 금리", topK = 2 });

        Assert.Equal("checkup", dense.Results[0].DocumentId);
        Assert.Equal("loan", hybrid.Results[0].DocumentId);
    }

    [Fact]
    public async Task Search_whose_fallback_lacks_the_collection_fails_with_the_primary_error()
    {
        await PutOnFailingBackendAsync("fallback-missing");
        await _client.IngestAsync("fallback-missing", KoreanSamples.Documents());

        using var response = await _client.PostAsJsonAsync("/v1/collections/fallback-missing/search", new { query = "금리", topK = 3, mode = "dense" });

        Assert.True((int)response.StatusCode >= 500, $"expected a server error, got {response.StatusCode}");
    }

    private async Task PutOnFailingBackendAsync(string collection)
    {
        using var response = await _client.PutAsJsonAsync($"/v1/collections/{collection}", new { vectorBackend = "failing" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
