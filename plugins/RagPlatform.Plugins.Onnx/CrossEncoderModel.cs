using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// A cross-encoder (BERT or XLM-R with a sequence-classification head, e.g. bge-reranker, KURE-reranker) as an
/// ONNX session: reads a query–passage pair as one input and gives its relevance logits ("logits" [batch, labels]).
/// One label: the score is sigmoid(logit) (as sentence-transformers' CrossEncoder does for one label); two labels:
/// the softmax probability of the second ("relevant").
/// </summary>
internal sealed class CrossEncoderModel : IDisposable
{
    private readonly OnnxModelSession _session;

    public CrossEncoderModel(string modelFile, OnnxModelOptions options, ILogger logger)
    {
        _session = new OnnxModelSession(modelFile, options, logger);
        try
        {
            var outputs = _session.Outputs;
            OutputName = outputs.ContainsKey("logits") ? "logits"
                : outputs.FirstOrDefault(o => o.Value.IsTensor && o.Value.Dimensions.Length == 2 && o.Value.ElementDataType == TensorElementType.Float).Key
                ?? throw new NotSupportedException(
                    $"The model {modelFile} has no logits output [batch, labels] (it declares {string.Join(", ", outputs.Keys)}); is it a cross-encoder?");
            var shape = outputs[OutputName].Dimensions;
            if (shape.Length != 2)
            {
                throw new NotSupportedException($"The model {modelFile}'s output {OutputName} has {shape.Length} dimensions; a cross-encoder gives [batch, labels].");
            }

            Labels = shape[1];
            if (Labels is not (1 or 2 or -1))
            {
                throw new NotSupportedException(
                    $"The model {modelFile} gives {Labels} labels per pair; a reranker gives one relevance logit (or two: not relevant, relevant).");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public string OutputName { get; }

    /// <summary>Labels per pair the graph declares (-1 when symbolic: read from each run).</summary>
    public int Labels { get; }

    public IReadOnlyList<string> InputNames => _session.InputNames;

    /// <summary>"cpu" or "cuda:N".</summary>
    public string Device => _session.Device;

    public OnnxThreading Threading => _session.Threading;

    /// <summary>Scores one padded batch of encoded pairs; <paramref name="sigmoid"/> false leaves a single logit as it is.</summary>
    public void Score(ReadOnlySpan<TokenizedText> rows, int padTokenId, bool sigmoid, Span<float> scores, RunOptions runOptions)
    {
        using var output = _session.Run(rows, padTokenId, OutputName, runOptions);
        var data = output.Data;
        var labels = data.Length / rows.Length;
        if (labels is not (1 or 2) || data.Length != labels * rows.Length)
        {
            throw new InvalidOperationException($"The model gave {data.Length} values for {rows.Length} pairs; a reranker gives one or two per pair.");
        }

        for (var i = 0; i < rows.Length; i++)
        {
            if (labels == 1)
            {
                var logit = data[i];
                scores[i] = sigmoid ? 1f / (1f + MathF.Exp(-logit)) : logit;
            }
            else
            {
                // softmax([not, relevant])[1] = sigmoid(relevant - not).
                scores[i] = 1f / (1f + MathF.Exp(data[(2 * i)] - data[(2 * i) + 1]));
            }
        }
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>A loaded cross-encoder: its session and its batcher.</summary>
internal sealed class SharedCrossEncoder : SharedModel
{
    public SharedCrossEncoder(ModelFolder folder, OnnxRerankerOptions options, int padTokenId, ILogger logger)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Model = new CrossEncoderModel(folder.ModelFile, options, logger);
        var sigmoid = !string.Equals(options.Activation, "none", StringComparison.OrdinalIgnoreCase);
        Batcher = new TokenBatcher<float>(
            (rows, _, results, runOptions) => Model.Score(rows, padTokenId, sigmoid, results, runOptions),
            options.MaxBatchTokens,
            TimeSpan.FromMilliseconds(options.BatchWindowMilliseconds),
            Model.Threading.ConcurrentRuns,
            "onnx-reranker");
        LoadTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Threading = Model.Threading;
    }

    public CrossEncoderModel Model { get; }

    public TokenBatcher<float> Batcher { get; }

    public override string Device => Model.Device;

    public override async ValueTask UnloadAsync()
    {
        await Batcher.DisposeAsync();
        Model.Dispose();
    }
}
