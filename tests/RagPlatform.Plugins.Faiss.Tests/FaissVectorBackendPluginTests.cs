using Microsoft.Extensions.Configuration;
using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Faiss.Tests;

public sealed class FaissVectorBackendPluginTests : IDisposable
{
    private readonly TempDirectory _dataDirectory = new();

    public void Dispose() => _dataDirectory.Dispose();

    [Fact]
    public void Assembly_DeclaresThePluginEntryPoint_UnderTheNameFaiss()
    {
        var attribute = Assert.Single(typeof(FaissVectorBackendPlugin).Assembly.GetCustomAttributes<RagPluginAttribute>());

        var plugin = Assert.IsAssignableFrom<IVectorBackendPlugin>(Activator.CreateInstance(attribute.EntryPoint));
        Assert.Equal("faiss", plugin.Name);
    }

    [Fact]
    public async Task Create_WithSettings_BindsThemAndWritesUnderThePath()
    {
        var context = Context(new()
        {
            ["Path"] = "custom",
            ["IndexFactory"] = "Flat",
            ["HnswEfSearch"] = "64",
            ["NativeLibraryPath"] = FaissTestSupport.NativeLibrary,
        });

        await using (var backend = await new FaissVectorBackendPlugin().CreateAsync(context, default))
        {
            var spec = new VectorCollectionSpec("docs", 3, DistanceMetric.Cosine, FaissTestSupport.Fingerprint(3));
            await backend.EnsureCollectionAsync(spec, CancellationToken.None);
            await backend.UpsertAsync("docs", [new VectorPoint("a", [1, 0, 0], FaissTestSupport.Payload("d"))], CancellationToken.None);
        }

        var manifest = await File.ReadAllTextAsync(Path.Combine(_dataDirectory.Path, "custom", "docs", "collection.json"));
        Assert.Contains("\"IndexFactory\": \"Flat\"", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithoutNativeLibraryPath_FindsTheShimBesideThePluginAssembly()
    {
        // The plugin's build copies libragfaiss.so into its output (and so into this test's output).
        await using var backend = await new FaissVectorBackendPlugin().CreateAsync(Context([]), default);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(typeof(FaissVectorBackend).Assembly.Location)!, "libragfaiss.so")));
    }

    [Theory]
    [InlineData("IndexFactory", "", "IndexFactory")]
    [InlineData("IndexFactory", "IDMap,Flat", "IndexFactory")]
    [InlineData("HnswEfSearch", "0", "HnswEfSearch")]
    [InlineData("Oversampling", "1", "Oversampling")]
    [InlineData("NativeLibraryPath", "relative/libragfaiss.so", "NativeLibraryPath")]
    public async Task Create_WithInvalidSetting_NamesIt(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new FaissVectorBackendPlugin().CreateAsync(Context(new() { [key] = value }), default));

        Assert.Contains(error.Problems, p => p.Contains(named, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HnswEfSearch", "0")]
    [InlineData("ExactFilterFraction", "2")]
    [InlineData("CheckpointAfterLogBytes", "10")]
    public void ValidateSettings_OutOfRangeValue_NamesItsFullKeyWithoutCreatingAnything(string key, string value)
    {
        const string section = "RagPlatform:VectorStore:Backends:faiss";
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{section}:{key}"] = value })
            .Build()
            .GetSection(section);

        var problems = ((IVectorBackendPlugin)new FaissVectorBackendPlugin()).ValidateSettings(settings);

        Assert.Contains(problems, p => p.Contains($"{section}:{key}", StringComparison.Ordinal));
        if (key == "HnswEfSearch")
        {
            Assert.Equal([$"{section}:HnswEfSearch must be at least 1 (was 0)."], problems);
        }

        Assert.Empty(((IVectorBackendPlugin)new FaissVectorBackendPlugin()).ValidateSettings(
            new ConfigurationBuilder().Build().GetSection(section)));
    }

    [Fact]
    public async Task Create_WhenTheNativeLibraryIsMissing_SaysHowToBuildIt()
    {
        var missing = Path.Combine(_dataDirectory.Path, "nowhere", "libragfaiss.so");

        var error = await Assert.ThrowsAsync<DllNotFoundException>(async () => await new FaissVectorBackendPlugin().CreateAsync(Context(new() { ["NativeLibraryPath"] = missing }), default));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("./scripts/test.sh", error.Message, StringComparison.Ordinal);
        Assert.Contains("cmake -S plugins/RagPlatform.Plugins.Faiss/native", error.Message, StringComparison.Ordinal);
    }

    private PluginContext Context(Dictionary<string, string?> settings) =>
        PluginContexts.FromSettings(settings, _dataDirectory.Path);
}
