using System.Buffers;
using RagPlatform.Plugins.Onnx.Interop;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// A transformer encoder as an ONNX session: knows which inputs the graph declares (input_ids,
/// attention_mask, optional token_type_ids, all int64 [batch, sequence]) and which output holds the
/// embeddings (sentence_embedding [batch, hidden] when the graph pools itself, else last_hidden_state
/// [batch, sequence, hidden]), and turns one padded batch into pooled vectors.
/// </summary>
internal sealed class EncoderModel : IDisposable
{
    private readonly OrtSession _session;
    private readonly InputRole[] _roles;
    private readonly int _outputIndex;

    public EncoderModel(OrtRuntime runtime, string modelFile, int intraOpThreads, int? declaredHiddenSize)
    {
        _session = new OrtSession(runtime, modelFile, intraOpThreads);
        try
        {
            _roles = _session.Inputs.Select(input => RoleOf(input, modelFile)).ToArray();
            if (!_roles.Contains(InputRole.InputIds))
            {
                throw new NotSupportedException($"The model {modelFile} has no input_ids input (it declares {Names(_session.Inputs)}).");
            }

            var outputs = _session.Outputs;
            _outputIndex = IndexOf(outputs, "sentence_embedding");
            OutputIsPooled = _outputIndex >= 0;
            if (!OutputIsPooled)
            {
                _outputIndex = IndexOf(outputs, "last_hidden_state");
            }

            if (_outputIndex < 0)
            {
                _outputIndex = outputs.ToList().FindIndex(o => o.Shape.Length == 3 && o.ElementType == OrtElementType.Float);
            }

            if (_outputIndex < 0)
            {
                throw new NotSupportedException(
                    $"The model {modelFile} has no sentence_embedding or last_hidden_state output (it declares {Names(outputs)}).");
            }

            var shape = outputs[_outputIndex].Shape;
            Dimensions = shape.Length > 0 && shape[^1] > 0 ? (int)shape[^1] : declaredHiddenSize
                ?? throw new NotSupportedException($"The model {modelFile} does not declare its hidden size (output {outputs[_outputIndex].Name}, no config.json hidden_size).");
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

    /// <summary>Length of every vector this model gives.</summary>
    public int Dimensions { get; }

    /// <summary>True when the graph's own output is already one vector per text (pooling is then the model's).</summary>
    public bool OutputIsPooled { get; }

    /// <summary>True when the graph declares token_type_ids.</summary>
    public bool UsesTokenTypes => _roles.Contains(InputRole.TokenTypeIds);

    public IReadOnlyList<string> InputNames => _session.Inputs.Select(i => i.Name).ToList();

    public string OutputName => _session.Outputs[_outputIndex].Name;

    /// <summary>
    /// Runs one batch, right-padded to its longest row with <paramref name="padTokenId"/>, and writes each row's
    /// pooled (and, when asked, L2-normalised) vector into <paramref name="vectors"/>.
    /// </summary>
    public void Embed(ReadOnlySpan<TokenizedText> rows, int padTokenId, PoolingMode pooling, bool normalize, Span<float[]> vectors)
    {
        var count = rows.Length;
        var columns = 1;
        foreach (var row in rows)
        {
            columns = Math.Max(columns, row.Length);
        }

        var elements = count * columns;
        var inputs = new long[_roles.Length][];
        try
        {
            for (var r = 0; r < _roles.Length; r++)
            {
                inputs[r] = ArrayPool<long>.Shared.Rent(elements);
                Fill(inputs[r].AsSpan(0, elements), _roles[r], rows, columns, padTokenId);
            }

            using var output = _session.Run(inputs, count, columns, _outputIndex);
            var data = output.Data;
            for (var i = 0; i < count; i++)
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
        finally
        {
            foreach (var input in inputs)
            {
                if (input is not null)
                {
                    ArrayPool<long>.Shared.Return(input);
                }
            }
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

    private static InputRole RoleOf(OrtTensorSpec input, string modelFile)
    {
        var role = input.Name switch
        {
            "input_ids" => InputRole.InputIds,
            "attention_mask" => InputRole.AttentionMask,
            "token_type_ids" => InputRole.TokenTypeIds,
            _ => throw new NotSupportedException(
                $"The model {modelFile} takes an input '{input.Name}' the onnx provider cannot feed (it feeds input_ids, attention_mask and token_type_ids)."),
        };
        if (input.ElementType != OrtElementType.Int64)
        {
            throw new NotSupportedException($"The model {modelFile} takes '{input.Name}' as element type {input.ElementType}; the provider feeds int64.");
        }

        return role;
    }

    private static int IndexOf(IReadOnlyList<OrtTensorSpec> specs, string name)
    {
        for (var i = 0; i < specs.Count; i++)
        {
            if (specs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Names(IReadOnlyList<OrtTensorSpec> specs) => string.Join(", ", specs.Select(s => s.Name));
}
