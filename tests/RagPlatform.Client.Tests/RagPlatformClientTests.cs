using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Client.Tests;

/// <summary>The typed client against a real standalone host over loopback HTTP.</summary>
public sealed class RagPlatformClientTests(LoopbackPlatform platform) : IClassFixture<LoopbackPlatform>
{
    public static IReadOnlyList<DocumentInput> KoreanDocuments() =>
    [
        new("loan", "대출 금리 안내", "은행의 주택담보대출 금리가 이번 달에 0.25%포인트 올랐다. 변동금리 대출을 받은 고객은 이자 부담이 커진다.", ["finance"],
            new Dictionary<string, JsonElement> { ["year"] = JsonSerializer.SerializeToElement(2024) }),
        new("football", "축구 경기 결과", "어제 열린 축구 경기에서 홈팀이 2대 1로 이겼다. 관중은 삼만 명이 넘었다.", ["sports"], null),
        new("checkup", "건강검진 준비", "건강검진 전날에는 저녁 아홉 시 이후 금식해야 해요. 검진 결과는 2주 뒤에 나옵니다.", ["health"], null),
    ];

    [Fact]
    public async Task Documents_go_in_are_followed_to_completion_and_are_found()
    {
        using var client = platform.CreateRagClient();
        var created = await client.PutCollectionAsync("client-kb", new CollectionSettingsInput(null, null, null));
        Assert.Equal("client-kb", created.Name);

        var accepted = await client.PostDocumentsAsync("client-kb", KoreanDocuments());
        var seen = new List<JobStatus>();
        var job = await client.WaitForJobAsync(accepted.JobId, new SynchronousProgress<JobStatus>(seen.Add), TimeSpan.FromMilliseconds(20));

        Assert.Equal(JobStates.Completed, job.State);
        Assert.Equal(3, job.Succeeded);
        Assert.NotEmpty(seen);
        Assert.Equal(job, seen[^1]);

        var found = await client.SearchAsync("client-kb", new SearchRequest("주택담보대출 금리", 3, SearchModes.Hybrid, null, null));
        Assert.Equal("loan", found.Results[0].DocumentId);

        var context = await client.BuildContextAsync("client-kb", new ContextRequest("건강검진 금식", 2000, 2, null, null, null, null));
        Assert.Equal("checkup", context.Sources[0].DocumentId);
        Assert.Contains("[1]", context.Context, StringComparison.Ordinal);

        Assert.Equal(["checkup", "football", "loan"], (await client.ListAllDocumentIdsAsync("client-kb")).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await client.GetCollectionAsync("client-kb")).Documents);
        Assert.Contains((await client.ListCollectionsAsync()).Collections, c => c.Name == "client-kb");

        Assert.True(await client.DeleteDocumentAsync("client-kb", "football"));
        Assert.False(await client.DeleteDocumentAsync("client-kb", "football"));
        await client.DeleteCollectionAsync("client-kb");
        var gone = await Assert.ThrowsAsync<RagApiException>(() => client.GetCollectionAsync("client-kb"));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task Files_are_uploaded_as_multipart_and_keep_their_korean_names()
    {
        using var client = platform.CreateRagClient();
        var folder = Directory.CreateTempSubdirectory("rag-client-files-");
        try
        {
            var path = Path.Combine(folder.FullName, "안내.md");
            await File.WriteAllTextAsync(path, "# 적금 안내\n\n정기적금은 매달 같은 금액을 넣는 상품이다. 만기에 이자를 받는다.\n");

            var accepted = await client.PostFilesAsync("client-files", [new UploadFile(path, "안내.md")]);
            var job = await client.WaitForJobAsync(accepted.JobId, pollInterval: TimeSpan.FromMilliseconds(20));

            Assert.Equal(JobStates.Completed, job.State);
            Assert.Equal(["안내.md"], (await client.ListDocumentsAsync("client-files")).Documents.Select(d => d.Id));
            Assert.Equal("안내.md", (await client.SearchAsync("client-files", new SearchRequest("정기적금", 1, null, null, null))).Results[0].DocumentId);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_refused_batch_is_an_exception_carrying_the_problem_details_fields()
    {
        using var client = platform.CreateRagClient();

        var refused = await Assert.ThrowsAsync<RagApiException>(() =>
            client.PostDocumentsAsync("client-bad", [new DocumentInput("ok", null, "본문", null, null), new DocumentInput("empty", null, "", null, null)]));

        Assert.Equal(400, refused.Status);
        Assert.Contains(refused.Errors.Keys, field => field.StartsWith("$[1]", StringComparison.Ordinal));
        Assert.Contains("POST /v1/collections/client-bad/documents", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_id_with_a_dot_segment_is_refused_before_any_request()
    {
        using var client = platform.CreateRagClient();

        await Assert.ThrowsAsync<ArgumentException>(() => client.DeleteDocumentAsync("client-kb", "reports/../secret"));
    }

    [Fact]
    public async Task AddRagPlatformClient_registers_a_typed_client_of_the_http_client_factory()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RagPlatform:Client:BaseAddress"] = platform.BaseAddress.ToString(), ["RagPlatform:Client:MaxRetries"] = "2" })
            .Build();
        await using var fromConfiguration = new ServiceCollection().AddRagPlatformClient(configuration).Services.BuildServiceProvider();
        await using var fromCode = new ServiceCollection().AddRagPlatformClient(o => o.BaseAddress = platform.BaseAddress).Services.BuildServiceProvider();

        foreach (var services in new[] { fromConfiguration, fromCode })
        {
            var client = services.GetRequiredService<RagPlatformClient>();
            Assert.Equal(platform.BaseAddress, client.BaseAddress);
            Assert.True((await client.GetHealthAsync()).IsHealthy);
            Assert.NotNull(await client.ListCollectionsAsync());
        }
    }

    [Fact]
    public void Options_without_a_server_address_are_refused()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => RagPlatformClient.Create(new RagPlatformClientOptions()));

        Assert.Contains("BaseAddress", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Reports on the caller's thread, so the list is complete when the wait returns.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>A host that requires keys and allows each key two requests a second.</summary>
public sealed class KeyedClientTests(KeyedLoopbackPlatform platform) : IClassFixture<KeyedLoopbackPlatform>
{
    [Fact]
    public async Task The_api_key_is_sent_and_a_missing_one_is_a_401()
    {
        using var anonymous = platform.CreateRagClient(apiKey: null, maxRetries: 0);
        using var admin = platform.CreateRagClient(KeyedLoopbackPlatform.Admin.Key);

        Assert.Equal(401, (await Assert.ThrowsAsync<RagApiException>(() => anonymous.ListCollectionsAsync())).Status);
        Assert.NotNull(await admin.ListCollectionsAsync());
    }

    [Fact]
    public async Task A_throttled_call_waits_what_Retry_After_asks_and_then_succeeds()
    {
        using var impatient = platform.CreateRagClient(KeyedLoopbackPlatform.Reader.Key, maxRetries: 0);
        using var patient = platform.CreateRagClient(KeyedLoopbackPlatform.Reader.Key, maxRetries: 4);

        // Without retries the third call of a window is refused, and the refusal says how long to wait.
        RagApiException? throttled = null;
        for (var i = 0; i < 3 && throttled is null; i++)
        {
            throttled = await Record(() => impatient.ListCollectionsAsync());
        }

        Assert.NotNull(throttled);
        Assert.Equal(429, throttled.Status);
        Assert.True(throttled.RetryAfter > TimeSpan.Zero, "a 429 carries Retry-After");

        // With retries, six calls at two a second all succeed: the refused ones are repeated after Retry-After.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            Assert.NotNull(await patient.ListCollectionsAsync());
        }

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"six calls at two a second took only {clock.Elapsed}");
    }

    private static async Task<RagApiException?> Record(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (RagApiException ex)
        {
            return ex;
        }
    }
}
