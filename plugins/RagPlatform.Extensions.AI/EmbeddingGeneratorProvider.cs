using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using RagPlatform.Sdk;

namespace RagPlatform.Extensions.AI;

/// <summary>Settings of a provider backed by an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, read from
/// <c>RagPlatform:Embedding:Providers:&lt;name&gt;</c>.</summary>
public sealed class EmbeddingGeneratorProviderOptions
{
    /// <summary>
    /// The vector space the generator produces, as a fingerprint (<c>openai/text-embedding-3-small@1;dim=1536;pool=none;norm=l2</c>).
    /// Required: a generator does not say what its vectors mean, and a collection must never mix two spaces.
    /// </summary>
    public string? Fingerprint { get; set; }

    /// <summary>The most inputs one call carries.</summary>
    public int MaxBatchSize { get; set; } = 128;

    /// <summary>The model's input limit in tokens (the host chunks to fit, counting with <see cref="CharsPerToken"/>).</summary>
    public int MaxInputTokens { get; set; } = 512;

    /// <summary>
    /// UTF-8 bytes per token of the estimate the host chunks with (an upper estimate is safe): 2 counts a Korean syllable
    /// (3 bytes) as 1.5 tokens and English text at about twice what BPE tokenizers give.
    /// </summary>
    public double CharsPerToken { get; set; } = 2;

    /// <summary>Send the fingerprint's dimensions with each call (<c>EmbeddingGenerationOptions.Dimensions</c>), for models that shorten vectors.</summary>
    public bool SendDimensions { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Fingerprint))
        {
            yield return "Fingerprint is required (provider/model@revision;dim=N;pool=P;norm=N): the vector space the generator produces.";
        }
        else
        {
            string? problem = null;
            try
            {
                ModelFingerprint.Parse(Fingerprint);
            }
            catch (FormatException ex)
            {
                problem = ex.Message;
            }

            if (problem is not null)
            {
                yield return "Fingerprint: " + problem;
            }
        }

        if (MaxBatchSize is < 1 or > 2048)
        {
            yield return "MaxBatchSize is between 1 and 2048.";
        }

        if (MaxInputTokens < 1)
        {
            yield return "MaxInputTokens must be positive.";
        }

        if (!(CharsPerToken > 0))
        {
            yield return "CharsPerToken must be positive.";
        }
    }
}

/// <summary>
/// Any <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (the OpenAI SDK's, Ollama's, Azure's…) as a RagPlatform embedding
/// provider. The fingerprint comes from configuration. IEmbeddingGenerator fails a whole call, where a provider must fail
/// only the bad input: a failed call is split in halves and retried until each failure is pinned to one input, which alone
/// fails (cancellation still cancels everything). A vector of the wrong length fails its input too.
/// </summary>
public sealed class EmbeddingGeneratorProvider : IEmbeddingProvider
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly EmbeddingGeneratorProviderOptions _options;
    private readonly bool _ownsGenerator;

    public EmbeddingGeneratorProvider(IEmbeddingGenerator<string, Embedding<float>> generator, EmbeddingGeneratorProviderOptions options, bool ownsGenerator = false)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(EmbeddingGeneratorProviderOptions), problems);
        }

        _generator = generator;
        _options = options;
        _ownsGenerator = ownsGenerator;
        Fingerprint = ModelFingerprint.Parse(options.Fingerprint!);
    }

    public ModelFingerprint Fingerprint { get; }

    public int MaxInputTokens => _options.MaxInputTokens;

    public int MaxBatchSize => _options.MaxBatchSize;

    public int CountTokens(string text) =>
        (int)Math.Ceiling(Encoding.UTF8.GetByteCount(text ?? string.Empty) / _options.CharsPerToken);

    public async Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var results = new EmbeddingResult[inputs.Count];
        await EmbedRangeAsync(inputs, 0, inputs.Count, results, cancellationToken);
        return results;
    }

    private async Task EmbedRangeAsync(IReadOnlyList<string> inputs, int start, int count, EmbeddingResult[] results, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        var batch = new List<string>(count);
        for (var i = start; i < start + count; i++)
        {
            batch.Add(inputs[i]);
        }

        GeneratedEmbeddings<Embedding<float>> generated;
        try
        {
            generated = await _generator.GenerateAsync(batch, CreateOptions(), cancellationToken);
            if (generated.Count != count)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"the generator answered {generated.Count} embeddings for {count} inputs"));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (count == 1)
            {
                results[start] = EmbeddingResult.Failure(Describe(ex));
                return;
            }

            // Which input failed the call is not said: halve until each failure stands alone.
            var half = count / 2;
            await EmbedRangeAsync(inputs, start, half, results, cancellationToken);
            await EmbedRangeAsync(inputs, start + half, count - half, results, cancellationToken);
            return;
        }

        // Reported usage shared out by each input's estimate; the estimate itself when the generator reports none.
        var estimates = batch.Select(CountTokens).ToArray();
        var reported = generated.Usage?.InputTokenCount;
        var estimated = Math.Max(1, estimates.Sum());
        for (var i = 0; i < count; i++)
        {
            var vector = generated[i].Vector.ToArray();
            var tokens = reported is { } total ? (int)Math.Round((double)total * estimates[i] / estimated) : estimates[i];
            results[start + i] = vector.Length == Fingerprint.Dimensions
                ? EmbeddingResult.Success(vector, tokens)
                : EmbeddingResult.Failure(string.Create(CultureInfo.InvariantCulture,
                    $"the generator returned {vector.Length} dimensions; {Fingerprint} has {Fingerprint.Dimensions}"));
        }
    }

    private EmbeddingGenerationOptions? CreateOptions() =>
        _options.SendDimensions ? new EmbeddingGenerationOptions { Dimensions = Fingerprint.Dimensions } : null;

    /// <summary>The failure's type and first line: enough to act on, never a request dump (which may hold a key).</summary>
    private static string Describe(Exception ex)
    {
        var message = ex.Message.Split('\n', 2)[0].Trim();
        return message.Length > 300 ? message[..300] + "…" : $"{ex.GetType().Name}: {message}";
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsGenerator)
        {
            _generator.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
