using Microsoft.Extensions.Configuration;

namespace RagPlatform.ModelHub.Tests;

public sealed class ModelResolverTests : IDisposable
{
    private const string Repo = "intfloat/multilingual-e5-small";
    private readonly FakeHub hub = new();
    private readonly string cache = Path.Combine(Path.GetTempPath(), "modelhub-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        hub.Dispose();
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private ModelResolver Resolver(Action<ModelHubOptions>? configure = null)
    {
        var options = new ModelHubOptions
        {
            CacheDirectory = cache,
            Endpoint = hub.Endpoint,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RequestTimeout = TimeSpan.FromSeconds(10),
            UseHuggingFaceCache = false,
        };
        configure?.Invoke(options);
        return new ModelResolver(options);
    }

    [Fact]
    public async Task A_hub_id_downloads_into_the_cache_in_hugging_face_layout()
    {
        hub.AddModel(Repo);
        using var resolver = Resolver();

        string folder = await resolver.ResolveAsync(Repo);

        Assert.Equal(Path.Combine(cache, "models--intfloat--multilingual-e5-small", "snapshots", "main"), folder);
        Assert.Equal(hub.Files[$"{Repo}/resolve/main/onnx/model.onnx"], await File.ReadAllBytesAsync(Path.Combine(folder, "onnx", "model.onnx")));
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(folder, "1_Pooling", "config.json")));
        Assert.False(File.Exists(Path.Combine(folder, "sentence_bert_config.json"))); // optional, 404 on the hub
        Assert.Empty(Directory.GetFiles(folder, "*.part", SearchOption.AllDirectories));
        Assert.Contains(hub.Requests, r => r.Path == $"{Repo}/resolve/main/config.json");
    }

    [Fact]
    public async Task A_model_at_the_repository_root_is_found_after_onnx_folder_404()
    {
        hub.AddModel(Repo, rootModel: true);
        using var resolver = Resolver();

        string folder = await resolver.ResolveAsync(Repo);

        Assert.True(File.Exists(Path.Combine(folder, "model.onnx")));
        Assert.Equal(1, hub.CountRequests("resolve/main/onnx/model.onnx"));
    }

    [Fact]
    public async Task A_cached_model_is_served_without_any_request()
    {
        hub.AddModel(Repo);
        using var resolver = Resolver();
        await resolver.ResolveAsync(Repo);
        int before = hub.Requests.Count;

        string again = await resolver.ResolveAsync(Repo);

        Assert.Equal(before, hub.Requests.Count);
        Assert.True(Directory.Exists(again));
    }

    [Fact]
    public async Task A_revision_selects_the_url_and_the_snapshot_folder()
    {
        hub.AddModel(Repo, revision: "v1.0");
        using var resolver = Resolver();

        string folder = await resolver.ResolveAsync(Repo, "v1.0");

        Assert.EndsWith(Path.Combine("snapshots", "v1.0"), folder, StringComparison.Ordinal);
        Assert.All(hub.Requests, r => Assert.StartsWith($"{Repo}/resolve/v1.0/", r.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rate_limiting_429_is_waited_out_as_retry_after_says()
    {
        hub.AddModel(Repo);
        hub.RateLimited[$"{Repo}/resolve/main/config.json"] = 2;
        hub.RetryAfterSeconds = 1;
        using var resolver = Resolver();
        using var retries = new RagPlatform.Tests.Shared.RemoteRetryCounter();

        string folder = await resolver.ResolveAsync(Repo);

        Assert.Equal(3, hub.CountRequests("resolve/main/config.json"));
        // Retried by the one retry policy (RemoteRetry), counted under this call site's name.
        Assert.True(retries.Of("ModelHub") >= 2);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
    }

    [Fact]
    public async Task A_retry_after_longer_than_allowed_fails_at_once_naming_what_to_set()
    {
        hub.AddModel(Repo);
        hub.RateLimited[$"{Repo}/resolve/main/tokenizer.json"] = 100;
        hub.RetryAfterSeconds = 3600;
        using var resolver = Resolver(o => o.MaxRetryDelay = TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("429", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retry-After", error.Message, StringComparison.Ordinal);
        Assert.Contains("Token", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, hub.CountRequests("resolve/main/tokenizer.json"));
    }

    [Fact]
    public async Task Endless_rate_limiting_stops_after_max_attempts()
    {
        hub.AddModel(Repo);
        hub.RateLimited[$"{Repo}/resolve/main/tokenizer.json"] = 100;
        hub.RetryAfterSeconds = 0;
        using var resolver = Resolver(o => o.MaxAttempts = 3);

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, hub.CountRequests("resolve/main/tokenizer.json"));
    }

    [Fact]
    public async Task A_download_cut_in_the_middle_resumes_from_where_it_stopped()
    {
        hub.AddModel(Repo);
        string modelPath = $"{Repo}/resolve/main/onnx/model.onnx";
        hub.CutAfter[modelPath] = 120_000;
        using var resolver = Resolver();

        string folder = await resolver.ResolveAsync(Repo);

        Assert.Equal(hub.Files[modelPath], await File.ReadAllBytesAsync(Path.Combine(folder, "onnx", "model.onnx")));
        var modelRequests = hub.Requests.Where(r => r.Path == modelPath).ToList();
        Assert.Equal(2, modelRequests.Count);
        Assert.Null(modelRequests[0].Range);
        Assert.Equal("bytes=120000-", modelRequests[1].Range);
    }

    [Fact]
    public async Task A_partial_file_left_by_an_earlier_run_is_resumed()
    {
        hub.AddModel(Repo);
        string modelPath = $"{Repo}/resolve/main/onnx/model.onnx";
        using var resolver = Resolver();
        string snapshot = resolver.SnapshotFolder(Repo);
        Directory.CreateDirectory(Path.Combine(snapshot, "onnx"));
        await File.WriteAllBytesAsync(Path.Combine(snapshot, "onnx", "model.onnx.part"), hub.Files[modelPath][..50_000]);

        await resolver.ResolveAsync(Repo);

        Assert.Equal(hub.Files[modelPath], await File.ReadAllBytesAsync(Path.Combine(snapshot, "onnx", "model.onnx")));
        Assert.Equal("bytes=50000-", hub.Requests.Single(r => r.Path == modelPath).Range);
    }

    [Fact]
    public async Task A_gated_model_without_a_token_fails_saying_to_set_the_token()
    {
        hub.AddModel(Repo);
        hub.RequiredToken = "hf_secret_value";
        using var resolver = Resolver();

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_is_sent_as_a_bearer_header_and_never_appears_in_errors()
    {
        hub.AddModel(Repo);
        hub.RequiredToken = "hf_right_token";
        using (var good = Resolver(o => o.Token = "hf_right_token"))
        {
            await good.ResolveAsync(Repo);
        }

        Assert.All(hub.Requests, r => Assert.Equal("Bearer hf_right_token", r.Authorization));

        using var wrong = Resolver(o => { o.Token = "hf_wrong_token"; o.CacheDirectory = cache + "-2"; });
        try
        {
            var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => wrong.ResolveAsync(Repo));
            Assert.DoesNotContain("hf_wrong_token", error.ToString(), StringComparison.Ordinal);
            Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(cache + "-2"))
            {
                Directory.Delete(cache + "-2", recursive: true);
            }
        }
    }

    [Fact]
    public async Task Offline_mode_makes_no_request_and_names_what_to_set()
    {
        hub.AddModel(Repo);
        using var resolver = Resolver(o => o.Offline = true);

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Empty(hub.Requests);
        Assert.Contains("offline", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(cache, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_mode_serves_what_the_cache_holds_without_requests()
    {
        hub.AddModel(Repo);
        using (var online = Resolver())
        {
            await online.ResolveAsync(Repo);
        }

        int before = hub.Requests.Count;
        using var offline = Resolver(o => o.Offline = true);

        string folder = await offline.ResolveAsync(Repo);

        Assert.Equal(before, hub.Requests.Count);
        Assert.True(ModelFiles.IsComplete(folder));
    }

    [Fact]
    public async Task A_local_folder_is_used_as_it_is_without_requests()
    {
        string folder = Path.Combine(cache, "my-model");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "model.onnx"), "graph");
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer.json"), "{}");
        await File.WriteAllTextAsync(Path.Combine(folder, "config.json"), "{}");
        using var resolver = Resolver();

        Assert.Equal(Path.GetFullPath(folder), await resolver.ResolveAsync(folder));
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public async Task A_local_folder_missing_files_is_refused_naming_them()
    {
        string folder = Path.Combine(cache, "half-model");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "config.json"), "{}");
        using var resolver = Resolver();

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(folder));

        Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.onnx", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/no/such/folder")]
    [InlineData("./relative/missing")]
    [InlineData("a/b/c")]
    public async Task A_missing_path_is_neither_a_folder_nor_a_hub_id(string reference)
    {
        using var resolver = Resolver();
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(reference));
        Assert.Contains("local folder", error.Message, StringComparison.Ordinal);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public async Task A_model_missing_on_the_hub_fails_with_404_and_what_to_check()
    {
        using var resolver = Resolver();
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync("nobody/nothing"));
        Assert.Contains("ONNX", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_after_bounded_attempts_naming_the_endpoint_setting()
    {
        int closedPort = hub.Port;
        hub.Dispose();
        using var resolver = Resolver(o => { o.Endpoint = $"http://127.0.0.1:{closedPort}"; o.MaxAttempts = 2; });

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("Endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 attempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_instead_of_hanging()
    {
        hub.AddModel(Repo);
        hub.Hang[$"{Repo}/resolve/main/onnx/model.onnx"] = true;
        using var resolver = Resolver(o => { o.RequestTimeout = TimeSpan.FromMilliseconds(300); o.MaxAttempts = 2; });

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("2 attempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_total_timeout_bounds_the_whole_resolve()
    {
        hub.AddModel(Repo);
        hub.Hang[$"{Repo}/resolve/main/onnx/model.onnx"] = true;
        using var resolver = Resolver(o => { o.Timeout = TimeSpan.FromMilliseconds(500); o.RequestTimeout = TimeSpan.FromSeconds(30); });

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(Repo));

        Assert.Contains("Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_resolves_of_one_model_download_it_once()
    {
        hub.AddModel(Repo);
        using var resolver = Resolver();

        var folders = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => resolver.ResolveAsync(Repo)));

        Assert.Single(folders.Distinct());
        Assert.Equal(1, hub.CountRequests("resolve/main/tokenizer.json"));
    }

    [Fact]
    public void Options_bind_from_configuration_and_fall_back_to_hf_environment_variables()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RagPlatform:ModelHub:CacheDirectory"] = "/models",
            ["RagPlatform:ModelHub:MaxAttempts"] = "7",
            ["RagPlatform:ModelHub:Timeout"] = "00:10:00",
        }).Build();
        var environment = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = "https://hf-mirror.example",
            ["HF_TOKEN"] = "hf_from_env",
            ["HF_HUB_OFFLINE"] = "1",
        };

        var options = ModelHubOptions.FromConfiguration(configuration.GetSection(ModelHubOptions.SectionName), name => environment.GetValueOrDefault(name));

        Assert.Equal("/models", options.CacheDirectory);
        Assert.Equal(7, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMinutes(10), options.Timeout);
        Assert.Equal("https://hf-mirror.example", options.Endpoint);
        Assert.Equal("hf_from_env", options.Token);
        Assert.True(options.Offline);
        Assert.Equal(new Uri("https://huggingface.co/"), new ModelHubOptions().ResolveEndpoint());
    }

    [Fact]
    public void Configured_values_win_over_the_environment()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Endpoint"] = "http://127.0.0.1:9",
            ["Token"] = "configured",
        }).Build();

        var options = ModelHubOptions.FromConfiguration(configuration, name => name == "HF_ENDPOINT" ? "https://other" : "env");

        Assert.Equal("http://127.0.0.1:9", options.Endpoint);
        Assert.Equal("configured", options.Token);
    }
}
