using Microsoft.Extensions.Configuration;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>The host checks each configured ONNX section at start: bad values are named by their full key, and
/// nothing is loaded or downloaded to find out.</summary>
public sealed class OnnxSettingsValidationTests
{
    [Theory]
    [InlineData("MaxBatchTokens", "8")]
    [InlineData("ConcurrentRuns", "-1")]
    [InlineData("ConcurrentRuns", "65")]
    [InlineData("Device", "tpu")]
    [InlineData("MaxBatchSize", "0")]
    [InlineData("Pooling", "max")]
    public void Embedder_out_of_range_setting_is_named_by_its_key(string key, string value)
    {
        const string section = "RagPlatform:Embedding:Providers:onnx";
        var problems = ((IEmbeddingProviderPlugin)new OnnxEmbedderPlugin()).ValidateSettings(Section(section, new()
        {
            ["ModelPath"] = "/models/none",
            [key] = value,
        }));

        Assert.Contains(problems, p => p.Contains($"{section}:{key}", StringComparison.Ordinal));
    }

    [Fact]
    public void Reranker_without_a_model_and_with_a_bad_activation_names_both()
    {
        const string section = "RagPlatform:Query:Rerankers:onnx";
        var problems = ((IRerankerPlugin)new OnnxRerankerPlugin()).ValidateSettings(Section(section, new() { ["Activation"] = "tanh" }));

        Assert.Contains(problems, p => p.Contains($"{section}:Activation", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains($"{section}:ModelPath", StringComparison.Ordinal));
    }

    [Fact]
    public void Valid_settings_have_no_problems()
    {
        const string section = "RagPlatform:Embedding:Providers:onnx";
        Assert.Empty(((IEmbeddingProviderPlugin)new OnnxEmbedderPlugin()).ValidateSettings(Section(section, new() { ["ModelPath"] = "/models/e5" })));
    }

    private static IConfigurationSection Section(string path, Dictionary<string, string?> settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.ToDictionary(s => $"{path}:{s.Key}", s => s.Value))
            .Build()
            .GetSection(path);
}
