using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// Reranks a query's candidates with a local cross-encoder exported to ONNX: each (query, passage) pair is encoded
/// with the model's own tokenizer.json pair template ([CLS] q [SEP] p [SEP] for BERT, &lt;s&gt; q &lt;/s&gt;&lt;/s&gt; p
/// &lt;/s&gt; for XLM-R), truncated longest-first to the model's length, and scored. Pairs go through the same
/// token-budget batcher as the embedder's texts (sorted by length, padded per batch), shared by every request in
/// the process; a pair's score does not depend on the batch it ran in.
/// </summary>
public sealed class OnnxReranker : IReranker, ILocalModelInfo
{
    public const string RerankerName = "onnx";

    private readonly ITextTokenizer _tokenizer;
    private readonly SharedCrossEncoder _model;
    private readonly bool _includeTitle;
    private int _disposed;

    internal OnnxReranker(OnnxRerankerOptions options, ModelFolder folder, ITextTokenizer tokenizer, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(OnnxRerankerOptions), problems);
        }

        logger ??= NullLogger.Instance;
        _tokenizer = tokenizer;
        _includeTitle = options.IncludeTitle;
        _model = SharedModels.Acquire(
            SharedModels.KeyOf("reranker", folder.ModelFile, options),
            () => new SharedCrossEncoder(folder, options, tokenizer.PadTokenId, logger));
        MaxSequenceLength = options.MaxSequenceLength > 0 ? options.MaxSequenceLength : folder.MaxSequenceLength;
        ModelId = string.IsNullOrWhiteSpace(options.ModelId) ? Path.GetFileName(folder.Directory) : options.ModelId.Trim();
        logger.LogInformation(
            "ONNX reranker {Model} from {Folder}: ONNX Runtime {Version} on {Device}, inputs {Inputs}, output {Output}, {Runs} concurrent runs of {Threads} intra-op threads, loaded in {LoadMs:F0} ms",
            ModelId, folder.Directory, OnnxModelSession.RuntimeVersion, _model.Device, string.Join(",", _model.Model.InputNames),
            _model.Model.OutputName, _model.Threading.ConcurrentRuns, _model.IntraOpThreads, _model.LoadTime.TotalMilliseconds);
    }

    public string ModelId { get; }

    /// <summary>Longest pair in tokens (special tokens included); longer pairs are truncated longest-first.</summary>
    public int MaxSequenceLength { get; }

    public int Threads => _model.IntraOpThreads;

    public string Runtime => "onnxruntime " + OnnxModelSession.RuntimeVersion;

    public string Device => _model.Device;

    internal TokenBatcher<float> Batcher => _model.Batcher;

    public async Task<IReadOnlyList<float>> ScoreAsync(string query, IReadOnlyList<RerankCandidate> candidates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(candidates);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (candidates.Count == 0)
        {
            return [];
        }

        var pairs = new TokenizedText[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            var passage = _includeTitle && !string.IsNullOrWhiteSpace(candidate.Title) ? candidate.Title + "\n" + candidate.Text : candidate.Text ?? string.Empty;
            pairs[i] = _tokenizer.EncodePair(query, passage, MaxSequenceLength);
        }

        return await _model.Batcher.RunAsync(pairs, null, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await SharedModels.ReleaseAsync(_model);
        }
    }
}
