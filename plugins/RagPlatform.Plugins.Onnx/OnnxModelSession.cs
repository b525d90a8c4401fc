using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// One ONNX Runtime inference session over a transformer graph that takes token ids: knows which of input_ids,
/// attention_mask and token_type_ids (int64 [batch, sequence]) the graph declares, and runs one right-padded batch
/// of tokenized texts. The inputs are rented arrays wrapped as tensors in place (OrtValue over pinned managed
/// memory, no copy); the outputs are ONNX Runtime's and live until the returned collection is disposed.
/// Sessions are thread-safe, and so is this: the batcher runs <see cref="Threading"/>'s concurrent runs on it.
/// </summary>
internal sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly InputRole[] _roles;
    private readonly string[] _inputNames;

    public OnnxModelSession(string modelFile, OnnxModelOptions options, ILogger logger)
    {
        var device = OnnxDevices.Parse(options.Device) ?? OnnxDevice.Auto;
        var threading = OnnxThreading.ForCpu(options, Environment.ProcessorCount);
        var (sessionOptions, deviceName) = OnnxDevices.CreateSessionOptions(device, options.DeviceId, threading.IntraOpThreads, options.SettingKey(nameof(options.Device)), logger);
        using (sessionOptions)
        {
            try
            {
                _session = new InferenceSession(modelFile, sessionOptions);
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"ONNX Runtime could not load the model {modelFile}: {e.Message}", e);
            }
        }

        Device = deviceName;
        Threading = threading.OnDevice(deviceName, options);
        try
        {
            _inputNames = [.. _session.InputNames];
            _roles = [.. _inputNames.Select(name => RoleOf(name, _session.InputMetadata[name], modelFile))];
            if (!_roles.Contains(InputRole.InputIds))
            {
                throw new NotSupportedException($"The model {modelFile} has no input_ids input (it declares {string.Join(", ", _inputNames)}).");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private enum InputRole
    {
        InputIds,
        AttentionMask,
        TokenTypeIds,
    }

    /// <summary>"cpu" or "cuda:N": where this session's operators run.</summary>
    public string Device { get; }

    /// <summary>Runs in flight at once and intra-op threads per run (see <see cref="OnnxThreading"/>).</summary>
    public OnnxThreading Threading { get; }

    /// <summary>ONNX Runtime's version string (e.g. "1.32.0").</summary>
    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    public IReadOnlyList<string> InputNames => _inputNames;

    public IReadOnlyDictionary<string, NodeMetadata> Outputs => _session.OutputMetadata;

    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>True when the graph declares token_type_ids.</summary>
    public bool UsesTokenTypes => _roles.Contains(InputRole.TokenTypeIds);

    /// <summary>
    /// Runs one batch right-padded to its longest row with <paramref name="padTokenId"/> and returns the named
    /// output. Setting <see cref="RunOptions.Terminate"/> on <paramref name="runOptions"/> from another thread stops
    /// the run (it then throws <see cref="OnnxRuntimeException"/>).
    /// </summary>
    public BatchOutput Run(ReadOnlySpan<TokenizedText> rows, int padTokenId, string outputName, RunOptions runOptions)
    {
        var count = rows.Length;
        var columns = 1;
        foreach (var row in rows)
        {
            columns = Math.Max(columns, row.Length);
        }

        var elements = count * columns;
        long[] shape = [count, columns];
        var buffers = new long[_roles.Length][];
        var values = new OrtValue[_roles.Length];
        try
        {
            for (var r = 0; r < _roles.Length; r++)
            {
                buffers[r] = ArrayPool<long>.Shared.Rent(elements);
                Fill(buffers[r].AsSpan(0, elements), _roles[r], rows, columns, padTokenId);
                values[r] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers[r].AsMemory(0, elements), shape);
            }

            var outputs = _session.Run(runOptions, _inputNames, values, [outputName]);
            return new BatchOutput(outputs, count, columns);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }

            foreach (var buffer in buffers)
            {
                if (buffer is not null)
                {
                    ArrayPool<long>.Shared.Return(buffer);
                }
            }
        }
    }

    public void Dispose() => _session.Dispose();

    private static void Fill(Span<long> target, InputRole role, ReadOnlySpan<TokenizedText> rows, int columns, int padTokenId)
    {
        for (var i = 0; i < rows.Length; i++)
        {
            var row = target.Slice(i * columns, columns);
            var text = rows[i];
            switch (role)
            {
                case InputRole.InputIds:
                    for (var t = 0; t < text.Length; t++)
                    {
                        row[t] = text.InputIds[t];
                    }

                    row[text.Length..].Fill(padTokenId);
                    break;
                case InputRole.AttentionMask:
                    row[..text.Length].Fill(1);
                    row[text.Length..].Clear();
                    break;
                case InputRole.TokenTypeIds:
                    for (var t = 0; t < text.Length; t++)
                    {
                        row[t] = text.TypeIds is { Length: > 0 } types ? types[t] : 0;
                    }

                    row[text.Length..].Clear();
                    break;
            }
        }
    }

    private static InputRole RoleOf(string name, NodeMetadata metadata, string modelFile)
    {
        var role = name switch
        {
            "input_ids" => InputRole.InputIds,
            "attention_mask" => InputRole.AttentionMask,
            "token_type_ids" => InputRole.TokenTypeIds,
            _ => throw new NotSupportedException(
                $"The model {modelFile} takes an input '{name}' the onnx plugin cannot feed (it feeds input_ids, attention_mask and token_type_ids)."),
        };
        if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Int64)
        {
            throw new NotSupportedException($"The model {modelFile} takes '{name}' as {metadata.ElementDataType}; the plugin feeds int64 tensors.");
        }

        return role;
    }
}

/// <summary>One run's output (float32), valid until disposed; rows × padded columns of the batch that made it.</summary>
internal sealed class BatchOutput(IDisposableReadOnlyCollection<OrtValue> values, int rows, int columns) : IDisposable
{
    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    public ReadOnlySpan<float> Data
    {
        get
        {
            var value = values[0];
            var type = value.GetTensorTypeAndShape().ElementDataType;
            return type == TensorElementType.Float
                ? value.GetTensorDataAsSpan<float>()
                : throw new InvalidOperationException($"The model's output is {type}; the plugin reads float32 outputs.");
        }
    }

    public long[] Shape => values[0].GetTensorTypeAndShape().Shape;

    public void Dispose() => values.Dispose();
}
