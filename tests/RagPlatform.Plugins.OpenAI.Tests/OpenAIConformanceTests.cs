using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>The SDK's conformance kit against the fault server in its well-behaved mode, over real HTTP.</summary>
public sealed class OpenAIConformanceTests : EmbeddingProviderConformanceTests, IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    protected override Task<IEmbeddingProvider> CreateProviderAsync()
    {
        // Through the plugin entry point, as the host creates it.
        var context = PluginContexts.FromSettings(
            new Dictionary<string, string?>
            {
                ["Model"] = "text-embedding-3-small",
                ["Dimensions"] = "256",
                ["Endpoint"] = _server.Endpoint,
                ["ApiKeys:0"] = TestProviders.KeyOne,
            },
            Path.Combine(Path.GetTempPath(), "rag-openai-conformance"));
        return new OpenAIEmbedderPlugin().CreateAsync(context, default).AsTask();
    }
}
