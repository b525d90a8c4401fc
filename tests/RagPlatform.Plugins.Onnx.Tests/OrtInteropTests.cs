using RagPlatform.Plugins.Onnx.Interop;

namespace RagPlatform.Plugins.Onnx.Tests;

public sealed class OrtInteropTests
{
    [Fact]
    public void RuntimeLoadsVersion130AndPassesTheApiTableCheck()
    {
        var runtime = OnnxTestSupport.Runtime();

        Assert.StartsWith("1.30", runtime.Version, StringComparison.Ordinal);
        Assert.NotEqual(0, runtime.Environment);
        Assert.Same(runtime, OnnxTestSupport.Runtime());
    }

    [Fact]
    public void MissingLibraryNamesTheSetupScriptAndTheSetting()
    {
        var error = Assert.Throws<DllNotFoundException>(() => OrtRuntime.Load("/nonexistent/libonnxruntime.so.1"));

        Assert.Contains("/nonexistent/libonnxruntime.so.1: not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/setup/30-onnxruntime.sh", error.Message, StringComparison.Ordinal);
        Assert.Contains("NativeLibraryPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LibraryThatIsNotOnnxRuntimeIsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => OrtRuntime.Load("/lib/x86_64-linux-gnu/libm.so.6"));

        Assert.Contains("OrtGetApiBase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingModelFileFailsWithOnnxRuntimesMessage()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N") + ".onnx");

        var error = Assert.Throws<OnnxRuntimeException>(() => new OrtSession(OnnxTestSupport.Runtime(), path, 1));

        Assert.Equal(OrtErrorCode.NoSuchFile, error.Code);
        Assert.Contains($"load the model {path}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Load model from", error.Message, StringComparison.Ordinal); // ORT's own words
    }

    [Fact]
    public void CorruptModelFileFailsWithOnnxRuntimesMessage()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, "model.onnx");
        File.WriteAllBytes(path, "this is not a protobuf model"u8.ToArray());

        var error = Assert.Throws<OnnxRuntimeException>(() => new OrtSession(OnnxTestSupport.Runtime(), path, 1));

        Assert.Equal(OrtErrorCode.InvalidProtobuf, error.Code);
        Assert.Contains("Protobuf parsing failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionReadsTheDeclaredInputsAndOutputs()
    {
        using var session = new OrtSession(OnnxTestSupport.Runtime(), Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), 1);

        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.Inputs.Select(i => i.Name));
        Assert.All(session.Inputs, i => Assert.Equal(OrtElementType.Int64, i.ElementType));
        var output = Assert.Single(session.Outputs);
        Assert.Equal("last_hidden_state", output.Name);
        Assert.Equal([-1, -1, OnnxTestSupport.TinyBertHidden], output.Shape);
    }

    [Fact]
    public void RunWithATokenIdOutsideTheVocabularyFailsWithOnnxRuntimesMessage()
    {
        using var session = new OrtSession(OnnxTestSupport.Runtime(), Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), 1);
        long[] ids = [2, 999_999, 3];
        long[] ones = [1, 1, 1];
        long[] zeros = [0, 0, 0];

        // Token id far outside the vocabulary: ORT's Gather refuses it.
        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run([ids, ones, zeros], 1, 3, 0));

        Assert.Contains("run the model", error.Message, StringComparison.Ordinal);
        Assert.Contains("Non-zero status code returned while running Gather node", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionsTensorsAndStatusesAreReleased()
    {
        var runtime = OnnxTestSupport.Runtime();
        var before = OrtHandle.Live;
        long[] ids = [2, 40, 41, 3];
        long[] ones = [1, 1, 1, 1];
        long[] zeros = [0, 0, 0, 0];

        for (var i = 0; i < 20; i++)
        {
            using var session = new OrtSession(runtime, Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), 1);
            for (var r = 0; r < 5; r++)
            {
                using var output = session.Run([ids, ones, zeros], 1, 4, 0);
                Assert.Equal(4 * OnnxTestSupport.TinyBertHidden, output.Data.Length);
            }

            Assert.True(OrtHandle.Live > before, "a session holds its session and memory-info handles");
            _ = Assert.Throws<OnnxRuntimeException>(() => session.Run([[2, 999_999, 3, 0], ones, zeros], 1, 4, 0));
        }

        Assert.Equal(before, OrtHandle.Live);
    }

    [Fact]
    public void ADisposedOutputCannotBeRead()
    {
        using var session = new OrtSession(OnnxTestSupport.Runtime(), Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), 1);
        var output = session.Run([[2, 3], [1, 1], [0, 0]], 1, 2, 0);
        output.Dispose();

        Assert.Throws<ObjectDisposedException>(() => output.Data.Length);
    }
}
