using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.EmbeddedVectors.Tests;

public sealed class EmbeddedVectorBackendPluginTests : IDisposable
{
    private readonly TempDirectory _dataDirectory = new();

    public void Dispose() => _dataDirectory.Dispose();

    [Fact]
    public void Assembly_DeclaresThePluginEntryPoint_UnderTheNameEmbedded()
    {
        var attribute = Assert.Single(typeof(EmbeddedVectorBackendPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());

        Assert.Equal(typeof(EmbeddedVectorBackendPlugin), attribute.EntryPoint);
        var plugin = Assert.IsAssignableFrom<IVectorBackendPlugin>(Activator.CreateInstance(attribute.EntryPoint));
        Assert.Equal("embedded", plugin.Name);
    }

    [Fact]
    public async Task Create_WithSettings_BindsEveryOptionAndReturnsAWorkingBackend()
    {
        var path = Path.Combine(_dataDirectory.Path, "custom");
        var context = Context(new()
        {
            ["Path"] = path,
            ["FlushToDisk"] = "true",
            ["CompactAfterLogBytes"] = "1048576",
            ["ParallelSearchThreshold"] = "5000",
            ["BatchConcurrentSearches"] = "false",
            ["BFloat16Prefilter"] = "false",
        });

        var backend = Assert.IsType<EmbeddedVectorBackend>((await new EmbeddedVectorBackendPlugin().CreateAsync(context, default)));
        await using (backend)
        {
            Assert.Equal(path, backend.Options.Path);
            Assert.True(backend.Options.FlushToDisk);
            Assert.Equal(1_048_576, backend.Options.CompactAfterLogBytes);
            Assert.Equal(5000, backend.Options.ParallelSearchThreshold);
            Assert.False(backend.Options.BatchConcurrentSearches);
            Assert.False(backend.Options.BFloat16Prefilter);

            var spec = new VectorCollectionSpec("docs", 3, DistanceMetric.Cosine, new ModelFingerprint("p", "m", "1", 3, "none", "l2"));
            await backend.EnsureCollectionAsync(spec, CancellationToken.None);
            await backend.UpsertAsync("docs", [new VectorPoint("a", [1, 0, 0], new PointPayload("d", null, "t", [], PointPayload.NoMetadata, "h", 0))], CancellationToken.None);
            Assert.Equal(1, await backend.CountAsync("docs", null, CancellationToken.None));
        }

        Assert.True(File.Exists(Path.Combine(path, "docs", EmbeddedCollection.SpecFileName)));
    }

    [Fact]
    public async Task Create_WithoutSettings_UsesDefaultsAndTheDataDirectory()
    {
        var backend = Assert.IsType<EmbeddedVectorBackend>((await new EmbeddedVectorBackendPlugin().CreateAsync(Context([]), default)));
        await using (backend)
        {
            Assert.Equal(Path.GetFullPath(_dataDirectory.Path), backend.Options.Path);
            Assert.False(backend.Options.FlushToDisk);
            Assert.Equal(EmbeddedVectorOptions.DefaultCompactAfterLogBytes, backend.Options.CompactAfterLogBytes);
            Assert.Equal(EmbeddedVectorOptions.DefaultParallelSearchThreshold, backend.Options.ParallelSearchThreshold);
            Assert.True(backend.Options.BatchConcurrentSearches);
            Assert.True(backend.Options.BFloat16Prefilter);
        }
    }

    [Fact]
    public async Task Create_WithRelativePath_ResolvesItAgainstTheDataDirectory()
    {
        var backend = Assert.IsType<EmbeddedVectorBackend>((await new EmbeddedVectorBackendPlugin().CreateAsync(Context(new() { ["Path"] = "vectors" }), default)));
        await using (backend)
        {
            Assert.Equal(Path.Combine(Path.GetFullPath(_dataDirectory.Path), "vectors"), backend.Options.Path);
        }
    }

    [Theory]
    [InlineData("CompactAfterLogBytes", "100")]
    [InlineData("ParallelSearchThreshold", "-1")]
    public async Task Create_WithInvalidSetting_ThrowsPluginConfigurationExceptionNamingIt(string key, string value)
    {
        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new EmbeddedVectorBackendPlugin().CreateAsync(Context(new() { [key] = value }), default));

        Assert.Contains(error.Problems, p => p.Contains(key, StringComparison.Ordinal));
    }

    private PluginContext Context(Dictionary<string, string?> settings) =>
        PluginContexts.FromSettings(settings, _dataDirectory.Path);
}
