using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance.Http;

namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>
/// The device setting against the real ONNX Runtime package. The CPU package (what the tests build with) has no
/// CUDA execution provider, so "auto" must fall back with a logged reason and "cuda" must refuse to start.
/// Running on CUDA itself needs the Gpu.Linux build and a GPU; no test here can show it.
/// </summary>
public sealed class OnnxDeviceTests
{
    [Fact]
    public void ThePackagesNativeLibraryIsLoadedAndOffersTheCpuProvider()
    {
        Assert.StartsWith("1.32", OnnxModelSession.RuntimeVersion, StringComparison.Ordinal);
        Assert.Contains("CPUExecutionProvider", OnnxDevices.AvailableProviders());
    }

    [Fact]
    public async Task AutoWithoutTheCudaProviderRunsOnTheCpuAndLogsWhy()
    {
        var log = new RecordingLogger();
        var folder = ModelFolder.Open(OnnxTestSupport.TinyBert);
        await using var provider = new OnnxEmbeddingProvider(
            OnnxTestSupport.Options(o => (o.Device, o.IntraOpThreads) = ("auto", 3)), folder, new CodePointTokenizer(OnnxTestSupport.TinyBertVocabulary), log);

        Assert.Equal("cpu", provider.Device);
        Assert.Contains(log.Lines, l => l.Contains("RagPlatform:Embedding:Providers:onnx:Device is auto: running on the CPU because", StringComparison.Ordinal)
            && l.Contains(OnnxDevices.CudaProvider, StringComparison.Ordinal));
        Assert.True((await provider.EmbedAsync(["장치 확인"], EmbeddingPurpose.Document, CancellationToken.None))[0].Succeeded);
    }

    [Fact]
    public void CudaWithoutTheCudaProviderIsAStartUpErrorNamingTheSetting()
    {
        var folder = ModelFolder.Open(OnnxTestSupport.TinyBert);

        var error = Assert.Throws<InvalidOperationException>(() => new OnnxEmbeddingProvider(
            OnnxTestSupport.Options(o => (o.Device, o.IntraOpThreads) = ("cuda", 5)), folder, new CodePointTokenizer(OnnxTestSupport.TinyBertVocabulary)));

        Assert.Contains("RagPlatform:Embedding:Providers:onnx:Device is \"cuda\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaThatFailsToStartIsAnErrorForCudaAndAFallbackForAuto()
    {
        // A build that lists the CUDA provider but cannot start it (no driver here): ONNX Runtime's own error.
        string[] withCuda = [OnnxDevices.CudaProvider, "CPUExecutionProvider"];
        var log = new RecordingLogger();

        var (options, device) = OnnxDevices.CreateSessionOptions(OnnxDevice.Auto, 0, 1, "X:Device", log, withCuda);
        options.Dispose();
        var error = Assert.Throws<InvalidOperationException>(() => OnnxDevices.CreateSessionOptions(OnnxDevice.Cuda, 0, 1, "X:Device", NullLogger.Instance, withCuda));

        Assert.Equal("cpu", device);
        Assert.Contains(log.Lines, l => l.Contains("the CUDA execution provider did not start on device 0", StringComparison.Ordinal));
        Assert.Contains("X:Device is \"cuda\" but the CUDA execution provider did not start", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownDeviceIsRefusedNamingTheSetting()
    {
        var problems = OnnxTestSupport.Options(o => o.Device = "tpu").Validate().ToList();

        Assert.Contains(problems, p => p.StartsWith("Device must be \"auto\", \"cpu\" or \"cuda\"", StringComparison.Ordinal));
    }

    [Fact]
    public void ACorruptModelFileFailsWithOnnxRuntimesMessage()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "model.onnx");
        File.WriteAllBytes(path, "this is not a protobuf model"u8.ToArray());

        var error = Assert.Throws<InvalidOperationException>(() => new OnnxModelSession(path, OnnxTestSupport.Options(), NullLogger.Instance));

        Assert.Contains($"could not load the model {path}", error.Message, StringComparison.Ordinal);
        Assert.IsType<OnnxRuntimeException>(error.InnerException);
    }
}
