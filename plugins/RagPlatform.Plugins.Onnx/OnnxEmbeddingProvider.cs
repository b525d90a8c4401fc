using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// Embeds with a local transformer encoder (BERT, XLM-R, e5, bge…) exported to ONNX: the model's own
/// tokenizer.json, the pooling its sentence-transformers config declares (mean or CLS), L2 normalisation and
/// per-purpose prefixes (e5's "query: " / "passage: "). All providers of one model in a process share one
/// session and one dynamic batcher (<see cref="SharedModels"/>).
/// </summary>
public sealed class OnnxEmbeddingProvider : IEmbeddingProvider, ILocalModelInfo
{
    public const string ProviderName = "onnx";

    private readonly ITextTokenizer _tokenizer;
    private readonly SharedEncoder _model;
    private readonly EmbeddingVariant _variant;
    private readonly PoolingMode _pooling;
    private readonly bool _normalize;
    private int _disposed;

    internal OnnxEmbeddingProvider(OnnxEmbedderOptions options, ModelFolder folder, ITextTokenizer tokenizer, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(OnnxEmbedderOptions), problems);
        }

        _tokenizer = tokenizer;
        logger ??= NullLogger.Instance;
        _model = SharedModels.Acquire(
            SharedModels.KeyOf("embedder", folder.ModelFile, options),
            () => new SharedEncoder(folder, options, tokenizer.PadTokenId, logger));
        try
        {
            var modelId = string.IsNullOrWhiteSpace(options.ModelId) ? Path.GetFileName(folder.Directory) : options.ModelId.Trim();
            _pooling = PoolingModes.Parse(options.Pooling) ?? folder.DeclaredPooling ?? PoolingMode.Mean;
            _normalize = options.Normalize;
            _variant = new EmbeddingVariant(_pooling, _normalize);
            MaxInputTokens = options.MaxSequenceLength > 0 ? options.MaxSequenceLength : folder.MaxSequenceLength;
            MaxBatchSize = options.MaxBatchSize;
            var e5 = IsE5(modelId);
            QueryPrefix = options.QueryPrefix ?? (e5 ? "query: " : string.Empty);
            DocumentPrefix = options.DocumentPrefix ?? (e5 ? "passage: " : string.Empty);
            Fingerprint = new ModelFingerprint(
                ProviderName,
                modelId,
                string.IsNullOrWhiteSpace(options.Revision) ? folder.HashModel() : options.Revision.Trim(),
                _model.Encoder.Dimensions,
                _model.Encoder.OutputIsPooled ? "model" : PoolingModes.Name(_pooling),
                _normalize ? "l2" : "none");
            RuntimeVersion = OnnxModelSession.RuntimeVersion;
            logger.LogInformation(
                "ONNX model {Fingerprint} from {Folder}: ONNX Runtime {Version} on {Device}, inputs {Inputs}, output {Output}, {Runs} concurrent runs of {Threads} intra-op threads, loaded in {LoadMs:F0} ms",
                Fingerprint, folder.Directory, RuntimeVersion, _model.Device, string.Join(",", _model.Encoder.InputNames),
                _model.Encoder.OutputName, _model.Threading.ConcurrentRuns, _model.IntraOpThreads, _model.LoadTime.TotalMilliseconds);
        }
        catch
        {
            SharedModels.ReleaseAsync(_model).AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public ModelFingerprint Fingerprint { get; }

    public int MaxInputTokens { get; }

    public int MaxBatchSize { get; }

    public string QueryPrefix { get; }

    public string DocumentPrefix { get; }

    /// <summary>ONNX Runtime's version string.</summary>
    public string RuntimeVersion { get; }

    /// <summary>Threads one model run uses.</summary>
    public int Threads => _model.IntraOpThreads;

    public string Runtime => "onnxruntime " + RuntimeVersion;

    /// <summary>"cpu" or "cuda:N": where the shared model runs.</summary>
    public string Device => _model.Device;

    /// <summary>How long the shared model took to load.</summary>
    public TimeSpan LoadTime => _model.LoadTime;

    internal TokenBatcher<float[]> Batcher => _model.Batcher;

    /// <summary>Tokens of the text as a document (prefix and special tokens included, before truncation).</summary>
    public int CountTokens(string text) => _tokenizer.CountTokens(DocumentPrefix + (text ?? string.Empty));

    public async Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(
        IReadOnlyList<string> inputs,
        EmbeddingPurpose purpose,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new EmbeddingResult[inputs.Count];
        if (inputs.Count == 0)
        {
            return results;
        }

        var prefix = purpose == EmbeddingPurpose.Query ? QueryPrefix : DocumentPrefix;
        var texts = new List<TokenizedText>(inputs.Count);
        var slots = new List<int>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (string.IsNullOrWhiteSpace(input))
            {
                results[i] = EmbeddingResult.Failure("input is empty");
                continue;
            }

            try
            {
                var tokens = _tokenizer.Encode(prefix + input, MaxInputTokens);
                if (tokens.Length == 0)
                {
                    results[i] = EmbeddingResult.Failure("input has no tokens");
                    continue;
                }

                texts.Add(tokens);
                slots.Add(i);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A text the tokenizer cannot read costs that input, not the batch.
                results[i] = EmbeddingResult.Failure($"tokenizer failed: {ex.Message}");
            }
        }

        var vectors = await _model.Batcher.RunAsync([.. texts], _variant, cancellationToken);
        for (var j = 0; j < slots.Count; j++)
        {
            results[slots[j]] = EmbeddingResult.Success(vectors[j], texts[j].Length);
        }

        return results;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await SharedModels.ReleaseAsync(_model);
        }
    }

    /// <summary>e5 family (intfloat/e5-*, multilingual-e5-*, KoE5…) were trained with "query: " / "passage: ".</summary>
    internal static bool IsE5(string modelId)
    {
        var name = modelId.Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..].ToLowerInvariant();
        return name.StartsWith("e5-", StringComparison.Ordinal) || name.Contains("-e5", StringComparison.Ordinal) || name.StartsWith("koe5", StringComparison.Ordinal);
    }
}
