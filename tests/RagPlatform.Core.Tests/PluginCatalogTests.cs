using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;
using System.Runtime.Loader;

namespace RagPlatform.Core.Tests;

public class PluginCatalogTests
{
    private static readonly string PluginDirectory = Path.Combine(AppContext.BaseDirectory, "plugins");

    [Fact]
    public void Plugins_are_found_by_the_names_their_entry_points_declare()
    {
        var catalog = new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance);

        Assert.Contains("hashing", catalog.EmbeddingProviders);
        Assert.Contains("faulty", catalog.EmbeddingProviders);
        Assert.Contains("keyword", catalog.Rerankers);
    }

    [Fact]
    public async Task Document_parsers_are_chosen_by_the_content_types_they_declare()
    {
        var catalog = new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance);
        var data = Path.Combine(Path.GetTempPath(), "rag-parsers-" + Guid.NewGuid().ToString("N"));
        await using var host = new PluginHost(catalog, new ConfigurationBuilder().Build(), Options.Create(new RagPlatformOptions { DataDirectory = data }), NullLoggerFactory.Instance);

        Assert.Equal(["docx", "html", "hwp", "hwpx", "markdown", "pdf", "pptx", "text", "xlsx"], catalog.DocumentParsers.Order(StringComparer.Ordinal));
        Assert.Equal("hwp", catalog.FindDocumentParser(Sdk.Documents.DocumentContentTypes.Hwp)!.Name);
        Assert.Null(catalog.FindDocumentParser(Sdk.Documents.DocumentContentTypes.CompoundFile));
        var (name, parser) = (await host.GetDocumentParserAsync(Sdk.Documents.DocumentContentTypes.Markdown, default))!.Value;
        var document = await parser.ParseAsync(
            new Sdk.Documents.DocumentSource("a.md", Sdk.Documents.DocumentContentTypes.Markdown, "# 제목\n\n본문입니다."u8.ToArray()),
            Sdk.Documents.DocumentParseLimits.Default, default);

        Assert.Equal(("markdown", "제목"), (name, document.Title));
        Assert.Same(parser, (await host.GetDocumentParserAsync(Sdk.Documents.DocumentContentTypes.Markdown, default))!.Value.Parser);
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_reranker_is_created_once_from_its_settings_section()
    {
        var catalog = new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RagPlatform:Query:Rerankers:keyword:Word"] = "은행" })
            .Build();
        var data = Path.Combine(Path.GetTempPath(), "rag-rerank-" + Guid.NewGuid().ToString("N"));
        await using var host = new PluginHost(catalog, configuration, Options.Create(new RagPlatformOptions { DataDirectory = data }), NullLoggerFactory.Instance);

        var reranker = await host.GetRerankerAsync("keyword", default);
        var scores = await reranker.ScoreAsync("q", [new RerankCandidate("a", null, "축구 경기"), new RerankCandidate("b", null, "은행 금리")], default);

        Assert.Same(reranker, await host.GetRerankerAsync("KEYWORD", default));
        Assert.Equal([0f, 1f], scores);
        await Assert.ThrowsAsync<PluginNotFoundException>(() => host.GetRerankerAsync("cross-encoder", default));
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public void A_plugin_loads_in_its_own_context_but_shares_the_sdk_types()
    {
        var catalog = new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance);
        var descriptor = catalog.GetEmbeddingProvider("hashing");

        var context = AssemblyLoadContext.GetLoadContext(descriptor.EntryPoint.Assembly);

        Assert.NotSame(AssemblyLoadContext.Default, context);
        Assert.True(typeof(IEmbeddingProviderPlugin).IsAssignableFrom(descriptor.EntryPoint));
    }

    [Fact]
    public void An_unknown_name_lists_what_is_available()
    {
        var catalog = new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance);

        var error = Assert.Throws<PluginNotFoundException>(() => catalog.GetVectorBackend("nope"));

        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
        Assert.Contains(PluginDirectory, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_explicit_assembly_is_a_clear_error()
    {
        var error = Assert.Throws<PluginLoadException>(() =>
            new PluginCatalog(PluginDirectory, ["/no/such/plugin.dll"], NullLogger<PluginCatalog>.Instance));

        Assert.Contains("/no/such/plugin.dll", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_host_shares_one_provider_per_settings_and_layers_collection_settings_over_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RagPlatform:Embedding:Providers:faulty:Dimensions"] = "48",
        }).Build();
        var options = Options.Create(new RagPlatformOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "rag-plugins-" + Guid.NewGuid().ToString("N")) });
        await using var host = new PluginHost(new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance), configuration, options, NullLoggerFactory.Instance);

        var configured = await host.GetEmbeddingProviderAsync(new EmbeddingSelection("faulty", new Dictionary<string, string?>()), default);
        var again = await host.GetEmbeddingProviderAsync(new EmbeddingSelection("faulty", new Dictionary<string, string?>()), default);
        var overridden = await host.GetEmbeddingProviderAsync(new EmbeddingSelection("faulty", new Dictionary<string, string?> { ["Dimensions"] = "96" }), default);

        Assert.Same(configured, again);
        Assert.Equal(48, configured.Fingerprint.Dimensions);
        Assert.Equal(96, overridden.Fingerprint.Dimensions);
        Directory.Delete(options.Value.DataDirectory, recursive: true);
    }

    [Fact]
    public async Task Concurrent_first_uses_share_one_asynchronous_creation()
    {
        var options = Options.Create(new RagPlatformOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "rag-plugins-" + Guid.NewGuid().ToString("N")) });
        await using var host = new PluginHost(new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance), new ConfigurationBuilder().Build(), options, NullLoggerFactory.Instance);
        var selection = new EmbeddingSelection("hashing", new Dictionary<string, string?>());

        var providers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => host.GetEmbeddingProviderAsync(selection, default)));

        Assert.All(providers, p => Assert.Same(providers[0], p));
        Assert.Single(host.CreatedEmbeddingProviders);
        Directory.Delete(options.Value.DataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_failed_creation_is_not_kept_and_the_next_use_tries_again()
    {
        var options = Options.Create(new RagPlatformOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "rag-plugins-" + Guid.NewGuid().ToString("N")) });
        await using var host = new PluginHost(new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance), new ConfigurationBuilder().Build(), options, NullLoggerFactory.Instance);
        var bad = new EmbeddingSelection("hashing", new Dictionary<string, string?> { ["Dimensions"] = "1" });

        var first = await Assert.ThrowsAsync<PluginConfigurationException>(() => host.GetEmbeddingProviderAsync(bad, default));
        var second = await Assert.ThrowsAsync<PluginConfigurationException>(() => host.GetEmbeddingProviderAsync(bad, default));

        Assert.NotSame(first, second);
        Assert.Empty(host.CreatedEmbeddingProviders);
        Directory.Delete(options.Value.DataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_backend_reads_the_process_connection_strings_through_its_settings()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // What Aspire sets for a Qdrant resource named "qdrant" (ConnectionStrings__qdrant, the gRPC port).
            ["ConnectionStrings:qdrant"] = "Endpoint=http://127.0.0.1:6334;Key=secret",
            ["RagPlatform:VectorStore:Backends:qdrant:MaxBatchPoints"] = "64",
        }).Build();
        var options = Options.Create(new RagPlatformOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "rag-plugins-" + Guid.NewGuid().ToString("N")) });
        await using var host = new PluginHost(new PluginCatalog(PluginDirectory, [], NullLogger<PluginCatalog>.Instance), configuration, options, NullLoggerFactory.Instance);

        var backend = await host.GetVectorBackendAsync("qdrant", default);

        Assert.Equal("QdrantVectorBackend", backend.GetType().Name);
        Directory.Delete(options.Value.DataDirectory, recursive: true);
    }
}
