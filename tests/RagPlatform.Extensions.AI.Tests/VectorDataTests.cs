using System.Text.Json;
using Microsoft.Extensions.VectorData;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Extensions.AI.Tests;

/// <summary>
/// A collection built with an IEmbeddingGenerator provider (the OpenAI SDK's, over the platform's own /v1/embeddings),
/// then searched from .NET through IKeywordHybridSearchable / IVectorSearchable over the query API.
/// </summary>
public sealed class VectorDataTests(GeneratorPlatform platform) : IClassFixture<GeneratorPlatform>
{
    private static readonly DocumentInput[] Documents =
    [
        new("loan", "대출 금리 안내", "은행의 주택담보대출 금리가 이번 달에 0.25%포인트 올랐다. 변동금리 대출을 받은 고객은 이자 부담이 커진다.", ["finance"],
            new Dictionary<string, JsonElement> { ["year"] = JsonSerializer.SerializeToElement(2024) }),
        new("football", "축구 경기 결과", "어제 열린 축구 경기에서 홈팀이 2대 1로 이겼다. 관중은 삼만 명이 넘었다.", ["sports"], null),
        new("checkup", "건강검진 준비", "건강검진 전날에는 저녁 아홉 시 이후 금식해야 해요. 검진 결과는 2주 뒤에 나옵니다.", ["health"], null),
        new("deposit", "예금 상품", "정기예금 금리는 연 3.5%이다. 만기 전에 해지하면 중도해지 이율이 적용된다.", ["finance"], null),
    ];

    [Fact]
    public async Task A_collection_embedded_by_the_OpenAI_SDKs_generator_is_searched_through_IKeywordHybridSearchable()
    {
        using var client = RagPlatformClient.Create(new RagPlatformClientOptions { BaseAddress = platform.BaseAddress });
        var stats = await client.PutCollectionAsync("meai", new CollectionSettingsInput(new EmbeddingSelectionInput(GeneratorPlatform.ProviderName, null), null, null));
        Assert.Equal(GeneratorPlatform.HashingFingerprint, stats.ModelFingerprint);

        var job = await client.WaitForJobAsync((await client.PostDocumentsAsync("meai", Documents)).JobId, pollInterval: TimeSpan.FromMilliseconds(20));
        Assert.Equal(JobStates.Completed, job.State);
        Assert.Equal(Documents.Length, job.Succeeded);
        Assert.True(platform.GeneratorCalls > 0, "the documents were embedded by the registered generator");

        IKeywordHybridSearchable<SearchResult> hybrid = new RagCollectionSearch(client, "meai");
        var found = await hybrid.HybridSearchAsync("주택담보대출 금리는 얼마나 올랐나요?", ["대출"], 3).ToListAsync();

        Assert.Equal("loan", found[0].Record.DocumentId);
        Assert.True(found[0].Score > 0);
        Assert.Contains("주택담보대출", found[0].Record.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dense_search_filters_skip_and_threshold_go_through_IVectorSearchable()
    {
        using var client = RagPlatformClient.Create(new RagPlatformClientOptions { BaseAddress = platform.BaseAddress });
        await client.PutCollectionAsync("meai-dense", new CollectionSettingsInput(new EmbeddingSelectionInput(GeneratorPlatform.ProviderName, null), null, null));
        await client.WaitForJobAsync((await client.PostDocumentsAsync("meai-dense", Documents)).JobId, pollInterval: TimeSpan.FromMilliseconds(20));

        IVectorSearchable<SearchResult> dense = new RagCollectionSearch(client, "meai-dense");
        var all = await dense.SearchAsync("건강검진 금식", 4).ToListAsync();
        var skipped = await dense.SearchAsync("건강검진 금식", 2, new VectorSearchOptions<SearchResult> { Skip = 1 }).ToListAsync();
        var finance = await new RagCollectionSearch(client, "meai-dense", new RagCollectionSearchOptions { Tags = ["finance"] }).SearchAsync("금리", 4).ToListAsync();

        Assert.Equal("checkup", all[0].Record.DocumentId);
        Assert.Equal(all.Skip(1).Take(2).Select(r => r.Record.ChunkId), skipped.Select(r => r.Record.ChunkId));
        Assert.NotEmpty(finance);
        Assert.All(finance, r => Assert.Contains("finance", r.Record.Tags));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await dense.SearchAsync(new float[] { 1, 2 }, 1).ToListAsync());
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await dense.SearchAsync("금리", 1, new VectorSearchOptions<SearchResult> { Filter = r => r.DocumentId == "loan" }).ToListAsync());
    }
}
