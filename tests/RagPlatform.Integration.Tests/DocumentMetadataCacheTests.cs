using System.Net.Http.Json;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// The standalone host's document-metadata cache (collection records in memory): searches stop reading the
/// record from the store, yet a document change is seen by the very next search, so the result cache (keyed
/// by the record's version) serves a repeated query only until the collection changes.
/// </summary>
public sealed class DocumentMetadataCacheTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_repeated_search_is_cached_until_a_document_changes_and_the_change_is_seen_at_once()
    {
        await _client.IngestAsync("meta-cache", KoreanSamples.Documents());
        var query = new { query = "정기예금 금리", topK = 5, mode = "lexical" };

        var first = await _client.SearchAsync("meta-cache", query);
        var repeated = await _client.SearchAsync("meta-cache", query);
        var before = await MetadataHitsAsync();
        await _client.IngestAsync("meta-cache", new[] { new { id = "deposit-2", title = "새 정기예금", text = "정기예금 금리가 연 4.1%로 오른 새 상품이 나왔습니다." } });
        var afterChange = await _client.SearchAsync("meta-cache", query);
        var again = await _client.SearchAsync("meta-cache", query);
        using var deleted = await _client.DeleteAsync("/v1/collections/meta-cache/documents/deposit-2");
        var afterDelete = await _client.SearchAsync("meta-cache", query);

        Assert.False(first.Cached);
        Assert.True(repeated.Cached);
        Assert.False(afterChange.Cached);
        Assert.Contains(afterChange.Results, r => r.DocumentId == "deposit-2");
        Assert.True(again.Cached);
        Assert.True(deleted.IsSuccessStatusCode);
        Assert.False(afterDelete.Cached);
        Assert.DoesNotContain(afterDelete.Results, r => r.DocumentId == "deposit-2");
        Assert.True(before > 0, "searches should read the collection record from memory");
    }

    private async Task<long> MetadataHitsAsync()
    {
        var stats = (await _client.GetFromJsonAsync<CacheStatsResponse>("/v1/cache/stats", PlatformFactory.Json))!;
        return stats.Tiers.Where(t => t.Kind == CacheKinds.DocumentMetadata).Sum(t => t.Hits);
    }
}
