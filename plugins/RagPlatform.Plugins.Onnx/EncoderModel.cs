using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// A transformer encoder as an ONNX session: knows which output holds the embeddings (sentence_embedding
/// [batch, hidden] when the graph pools itself, else last_hidden_state [batch, sequence, hidden]) and turns one
/// padded batch into pooled vectors.
/// </summary>
internal sealed class EncoderModel : IDisposable
{
    private readonly OnnxModelSession _session;

    public EncoderModel(string modelFile, OnnxModelOptions options, int? declaredHiddenSize, ILogger logger)
    {
        _session = new OnnxModelSession(modelFile, options, logger);
        try
        {
            var outputs = _session.Outputs;
            OutputIsPooled = outputs.ContainsKey("sentence_embedding");
            OutputName = OutputIsPooled ? "sentence_embedding"
                : outputs.ContainsKey("last_hidden_state") ? "last_hidden_state"
                : outputs.FirstOrDefault(o => o.Value.IsTensor && o.Value.Dimensions.Length == 3 && o.Value.ElementDataType == TensorElementType.Float).Key
                ?? throw new NotSupportedException(
                    $"The model {modelFile} has no sentence_embedding or last_hidden_state output (it declares {string.Join(", ", outputs.Keys)}).");

            var shape = outputs[OutputName].Dimensions;
            Dimensions = shape.Length > 0 && shape[^1] > 0 ? shape[^1] : declaredHiddenSize
                ?? throw new NotSupportedException($"The model {modelFile} does not declare its hidden size (output {OutputName}, no config.json hidden_size).");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Length of every vector this model gives.</summary>
    public int Dimensions { get; }

    /// <summary>True when the graph's own output is already one vector per text (pooling is then the model's).</summary>
    public bool OutputIsPooled { get; }

    /// <summary>True when the graph declares token_type_ids.</summary>
    public bool UsesTokenTypes => _session.UsesTokenTypes;

    public IReadOnlyList<string> InputNames => _session.InputNames;

    public string OutputName { get; }

    /// <summary>"cpu" or "cuda:N".</summary>
    public string Device => _session.Device;

    public OnnxThreading Threading => _session.Threading;

    /// <summary>
    /// Runs one batch, right-padded to its longest row with <paramref name="padTokenId"/>, and writes each row's
    /// pooled (and, when asked, L2-normalised) vector into <paramref name="vectors"/>.
    /// </summary>
    public void Embed(ReadOnlySpan<TokenizedText> rows, int padTokenId, PoolingMode pooling, bool normalize, Span<float[]> vectors, RunOptions runOptions)
    {
        using var output = _session.Run(rows, padTokenId, OutputName, runOptions);
        var data = output.Data;
        var columns = output.Columns;
        for (var i = 0; i < rows.Length; i++)
        {
            var vector = new float[Dimensions];
            if (OutputIsPooled)
            {
                data.Slice(i * Dimensions, Dimensions).CopyTo(vector);
            }
            else
            {
                Pool(data.Slice(i * columns * Dimensions, columns * Dimensions), rows[i].Length, pooling, vector);
            }

            if (normalize)
            {
                NormalizeInPlace(vector);
            }

            vectors[i] = vector;
        }
    }

    /// <summary>Pools one row of token vectors [sequence, hidden] whose first <paramref name="length"/> positions are real tokens.</summary>
    internal static void Pool(ReadOnlySpan<float> tokens, int length, PoolingMode pooling, Span<float> vector)
    {
        var hidden = vector.Length;
        if (pooling == PoolingMode.Cls || length <= 1)
        {
            tokens[..hidden].CopyTo(vector);
            return;
        }

        // Attention-masked mean: right padding means the mask is 1 exactly on the first `length` positions.
        vector.Clear();
        for (var t = 0; t < length; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(vector, tokens.Slice(t * hidden, hidden), vector);
        }

        System.Numerics.Tensors.TensorPrimitives.Divide(vector, length, vector);
    }

    internal static void NormalizeInPlace(Span<float> vector)
    {
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);

        // Same floor as sentence-transformers' and transformers.js's normalize (eps 1e-12).
        System.Numerics.Tensors.TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
    }

    public void Dispose() => _session.Dispose();
}
