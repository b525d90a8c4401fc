using RagPlatform.Sdk;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>The provider against the loopback fault server: every request goes through the OpenAI SDK over HTTP.</summary>
public sealed class OpenAIEmbeddingProviderTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string[] Texts(int count, string prefix = "문서") =>
        Enumerable.Range(0, count).Select(i => $"{prefix} {i}: 한국어 임베딩 요청 본문 {i * 31 % 97}").ToArray();

    [Fact]
    public async Task Vectors_are_the_servers_in_input_order_and_the_sdk_sends_the_documented_request()
    {
        await using var provider = TestProviders.Create(_server, o => { o.Model = "text-embedding-3-small"; o.Dimensions = 256; });
        var inputs = Texts(5);

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.True(results[i].Succeeded, results[i].Error);
            var expected = FaultServer.VectorFor(inputs[i], 256);
            Assert.Equal(expected.Length, results[i].Vector!.Length);
            Assert.All(expected.Zip(results[i].Vector!), p => Assert.Equal(p.First, p.Second, 1e-5f));
            Assert.True(results[i].Tokens > 0);
        }

        var request = Assert.Single(_server.Requests);
        Assert.Equal("text-embedding-3-small", request.Model);
        Assert.Equal(256, request.Dimensions);
        Assert.Equal(inputs, request.Inputs);
        Assert.Equal(TestProviders.KeyOne, request.Key);
        Assert.Equal("openai/text-embedding-3-small@1;dim=256;pool=provider;norm=l2", provider.Fingerprint.ToString());
    }

    [Fact]
    public async Task Native_size_sends_no_dimensions_parameter_and_ada_never_does()
    {
        _server.DefaultDimensions = 1536;
        await using (var small = TestProviders.Create(_server, o => { o.Model = "text-embedding-3-small"; o.Dimensions = null; }))
        {
            var results = await small.EmbedAsync(["짧은 문장"], EmbeddingPurpose.Query, CancellationToken.None);
            Assert.Equal(1536, small.Fingerprint.Dimensions);
            Assert.Equal(1536, results[0].Vector!.Length);
        }

        await using (var ada = TestProviders.Create(_server, o => { o.Model = "text-embedding-ada-002"; o.Dimensions = null; }))
        {
            var results = await ada.EmbedAsync(["짧은 문장"], EmbeddingPurpose.Query, CancellationToken.None);
            Assert.True(results[0].Succeeded, results[0].Error);
        }

        Assert.All(_server.Requests, r => Assert.Null(r.Dimensions));
    }

    [Fact]
    public async Task Requests_never_exceed_the_input_count_or_token_budget()
    {
        await using var provider = TestProviders.Create(_server, o => { o.MaxInputsPerRequest = 50; o.MaxTokensPerRequest = 600; o.MaxTokensPerInput = 200; });
        var inputs = Texts(300);

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.All(_server.Requests, r =>
        {
            Assert.InRange(r.Inputs.Count, 1, 50);
            Assert.True(r.Inputs.Sum(provider.CountTokens) <= 600, $"a request carried {r.Inputs.Sum(provider.CountTokens)} tokens");
        });
        Assert.Equal(300, _server.Requests.Sum(r => r.Inputs.Count));
    }

    [Fact]
    public async Task An_input_over_the_per_input_limit_fails_alone_without_being_sent()
    {
        await using var provider = TestProviders.Create(_server, o => o.MaxTokensPerInput = 100);
        var tooLong = string.Concat(Enumerable.Repeat("아주 긴 입력 ", 40));

        var results = await provider.EmbedAsync(["앞", tooLong, "뒤", " "], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.True(results[0].Succeeded);
        Assert.True(results[2].Succeeded);
        Assert.Contains("over the model's limit of 100", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("empty", results[3].Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Requests.SelectMany(r => r.Inputs), i => i == tooLong || i == " ");
    }

    [Fact]
    public async Task A_poisoned_input_fails_with_the_servers_reason_and_the_rest_of_its_batch_is_embedded()
    {
        _server.PoisonMarker = "#poison#";
        await using var provider = TestProviders.Create(_server);
        var inputs = Texts(64);
        inputs[37] = "독이 든 입력 #poison#";

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        for (var i = 0; i < inputs.Length; i++)
        {
            if (i == 37)
            {
                Assert.False(results[i].Succeeded);
                Assert.Contains("maximum context length", results[i].Error, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(results[i].Succeeded, $"{i}: {results[i].Error}");
            }
        }

        // Halving isolates it in about log2(64) extra requests, and no good input is embedded twice.
        Assert.InRange(_server.Requests.Count, 2, 2 * 7 + 1);
        Assert.All(_server.EmbeddedTexts, e => Assert.Equal(1, e.Value));
        Assert.Equal(63, _server.EmbeddedTexts.Count);
    }

    [Theory]
    [InlineData("seconds")]
    [InlineData("ms")]
    [InlineData("date")]
    public async Task A_429_is_retried_only_after_its_Retry_After(string style)
    {
        _server.ThrottleEvery = 2;
        _server.RetryAfterStyle = style;
        _server.ThrottleRetryAfter = TimeSpan.FromMilliseconds(900);
        // One request in flight, so every request after the first is sent knowing the answers before it.
        await using var provider = TestProviders.Create(_server, o => { o.MaxInputsPerRequest = 10; o.MaxConcurrentRequests = 1; });

        var results = await provider.EmbedAsync(Texts(40), EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Contains(_server.Requests, r => r.Status == 429);
        Assert.Empty(_server.Violations);
        var usage = provider.GetUsage();
        Assert.True(usage.Throttled >= 1);
        Assert.Equal(_server.Requests.Count, usage.Requests);
    }

    [Fact]
    public async Task Server_errors_and_stalls_are_retried_with_backoff_until_the_work_is_done()
    {
        _server.FailEvery = 3;
        _server.StallEvery = 7;
        _server.StallFor = TimeSpan.FromSeconds(30);
        await using var provider = TestProviders.Create(_server, o => { o.MaxInputsPerRequest = 8; o.RequestTimeoutSeconds = 3; o.MaxAttempts = 8; });
        var inputs = Texts(80);

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Contains(_server.Requests, r => r.Status == 500);
        Assert.Contains(_server.Requests, r => r.Status == 499);
        Assert.All(inputs, i => Assert.Equal(1, _server.EmbeddedTexts[i]));
        Assert.True(provider.GetUsage().Retries >= 2);
    }

    [Fact]
    public async Task A_dead_provider_fails_the_call_after_the_bounded_attempts_with_a_clear_reason()
    {
        _server.AlwaysFail = true;
        await using var provider = TestProviders.Create(_server, o => o.MaxAttempts = 4);

        var error = await Assert.ThrowsAsync<OpenAIProviderException>(() => provider.EmbedAsync(Texts(3), EmbeddingPurpose.Document, CancellationToken.None));

        Assert.Contains("gave up after 4 attempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, _server.Requests.Count);
    }

    [Fact]
    public async Task A_retry_time_limit_stops_a_provider_that_keeps_asking_to_wait()
    {
        _server.AlwaysThrottledKeys.Add(TestProviders.KeyOne);
        _server.ThrottleRetryAfter = TimeSpan.FromSeconds(60);
        await using var provider = TestProviders.Create(_server, o => o.MaxRetrySeconds = 2);

        var error = await Assert.ThrowsAsync<OpenAIProviderException>(() => provider.EmbedAsync(Texts(1), EmbeddingPurpose.Document, CancellationToken.None));

        Assert.Contains("rate-limited until", error.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
        Assert.Empty(_server.Violations);
    }

    [Fact]
    public async Task A_wrong_model_is_reported_once_not_retried()
    {
        _server.UnknownModel = true;
        await using var provider = TestProviders.Create(_server);

        var error = await Assert.ThrowsAsync<OpenAIProviderException>(() => provider.EmbedAsync(Texts(20), EmbeddingPurpose.Document, CancellationToken.None));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task With_three_keys_one_always_throttled_the_work_completes_on_the_other_two()
    {
        _server.AlwaysThrottledKeys.Add(TestProviders.KeyThree);
        _server.ThrottleRetryAfter = TimeSpan.FromSeconds(30);
        await using var provider = TestProviders.Create(_server, o =>
        {
            o.ApiKeys = [TestProviders.KeyOne, TestProviders.KeyTwo, TestProviders.KeyThree];
            o.MaxInputsPerRequest = 5;
            o.MaxConcurrentRequests = 1;
        });

        var results = await provider.EmbedAsync(Texts(100), EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        var usage = provider.GetUsage().Credentials;
        Assert.Equal(3, usage.Count);
        Assert.True(usage[0].Tokens > 0 && usage[1].Tokens > 0, "both good keys carry work");
        Assert.InRange(usage[0].Requests, 9, 11);
        Assert.InRange(usage[1].Requests, 9, 11);
        Assert.Equal(0, usage[2].Tokens);
        Assert.Equal(1, usage[2].Throttled);
        Assert.NotNull(usage[2].PausedUntil);
        Assert.Empty(_server.Violations);
    }

    [Fact]
    public async Task A_spent_rate_limit_window_pauses_the_key_before_any_429()
    {
        _server.ExhaustRequestWindowFor = TimeSpan.FromMilliseconds(700);
        await using var provider = TestProviders.Create(_server, o => { o.MaxInputsPerRequest = 10; o.MaxConcurrentRequests = 1; });

        var results = await provider.EmbedAsync(Texts(40), EmbeddingPurpose.Document, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(4, _server.Requests.Count(r => r.Status == 200));
        Assert.DoesNotContain(_server.Requests, r => r.Status == 429);
        Assert.Empty(_server.Violations);
    }

    [Fact]
    public async Task A_refused_key_is_dropped_and_never_appears_in_logs_errors_or_usage()
    {
        _server.RefusedKeys.Add(TestProviders.KeyOne);
        var logger = new ListLogger();
        await using var provider = TestProviders.Create(_server, o => o.ApiKeys = [TestProviders.KeyOne, TestProviders.KeyTwo], logger);

        var results = await provider.EmbedAsync(Texts(10), EmbeddingPurpose.Document, CancellationToken.None);
        _server.RefusedKeys.Add(TestProviders.KeyTwo);
        var error = await Assert.ThrowsAsync<OpenAIProviderException>(() => provider.EmbedAsync(Texts(2, "다른"), EmbeddingPurpose.Document, CancellationToken.None));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        var usage = provider.GetUsage();
        var everything = string.Join("\n", logger.Lines) + error + System.Text.Json.JsonSerializer.Serialize(usage);
        Assert.DoesNotContain("sk-test", everything, StringComparison.Ordinal);
        Assert.NotNull(usage.Credentials[0].Disabled);
        Assert.StartsWith("key-", usage.Credentials[0].Id, StringComparison.Ordinal);
        Assert.Contains("every API key was refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprint_is_the_model_not_the_endpoint_so_a_gateway_of_the_same_model_matches()
    {
        static ModelFingerprint Of(string endpoint, int? dimensions, string model = "text-embedding-3-small") =>
            new OpenAIEmbeddingProvider(new OpenAIEmbedderOptions { Endpoint = endpoint, ApiKeys = ["sk-x"], Model = model, Dimensions = dimensions }).Fingerprint;

        Assert.Equal(Of("https://api.openai.com/v1", null), Of("http://gateway.internal:8080/v1", 1536));
        Assert.NotEqual(Of("https://api.openai.com/v1", null), Of("https://api.openai.com/v1", 512));
        Assert.NotEqual(Of("https://api.openai.com/v1", null), Of("https://api.openai.com/v1", null, "text-embedding-3-large"));
    }

    [Theory]
    [InlineData("Model=my-model", "Dimensions is required")]
    [InlineData("Model=text-embedding-ada-002;Dimensions=512", "always returns 1536")]
    [InlineData("Model=text-embedding-3-small;Dimensions=4096", "at most 1536")]
    [InlineData("Endpoint=https://api.openai.com/v1", "ApiKeys must hold at least one key")]
    [InlineData("Endpoint=ftp://x", "absolute http(s) URL")]
    public void Invalid_settings_are_refused_with_the_setting_named(string settings, string expected)
    {
        var options = new OpenAIEmbedderOptions { Endpoint = "http://127.0.0.1:1/v1" };
        foreach (var pair in settings.Split(';'))
        {
            var (name, value) = (pair.Split('=')[0], pair.Split('=', 2)[1]);
            typeof(OpenAIEmbedderOptions).GetProperty(name)!.SetValue(options, name == "Dimensions" ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value);
        }

        var error = Assert.Throws<PluginConfigurationException>(() => new OpenAIEmbeddingProvider(options));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
