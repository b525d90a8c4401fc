using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.HashingEmbedder.Tests;

public sealed class HashingEmbedderPluginTests
{
    [Fact]
    public void AssemblyDeclaresThePluginEntryPoint()
    {
        var attribute = Assert.Single(typeof(HashingEmbedderPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());

        Assert.Equal(typeof(HashingEmbedderPlugin), attribute.EntryPoint);
        Assert.Equal("hashing", new HashingEmbedderPlugin().Name);
    }

    [Fact]
    public async Task CreateBindsItsSettings()
    {
        await using var provider = await new HashingEmbedderPlugin().CreateAsync(Context(new()
        {
            ["Dimensions"] = "512",
            ["MaxInputTokens"] = "100",
            ["MaxBatchSize"] = "16",
            ["LatinWordWeight"] = "3",
        }), default);

        Assert.Equal("hashing/korean-ngram-hash@1+word=3;dim=512;pool=none;norm=l2", provider.Fingerprint.ToString());
        Assert.Equal(100, provider.MaxInputTokens);
        Assert.Equal(16, provider.MaxBatchSize);
    }

    [Fact]
    public async Task CreateWithoutSettingsUsesTheDefaults()
    {
        await using var provider = await new HashingEmbedderPlugin().CreateAsync(Context([]), default);

        Assert.Equal("hashing/korean-ngram-hash@1;dim=1024;pool=none;norm=l2", provider.Fingerprint.ToString());
    }

    [Fact]
    public async Task CreateRejectsDimensionsZero()
    {
        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () =>
            await new HashingEmbedderPlugin().CreateAsync(Context(new() { ["Dimensions"] = "0" }), default));

        Assert.Contains("Dimensions", error.Message, StringComparison.Ordinal);
    }

    private static PluginContext Context(Dictionary<string, string?> settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), NullLoggerFactory.Instance, Path.GetTempPath());
}
