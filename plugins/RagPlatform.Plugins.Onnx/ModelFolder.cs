using System.Security.Cryptography;
using System.Text.Json;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// A model folder in the Hugging Face layout and what its files say: where the ONNX graph and tokenizer are,
/// the pooling sentence-transformers declares, the longest sequence, the hidden size.
/// </summary>
internal sealed class ModelFolder
{
    private const int DefaultMaxSequenceLength = 512;

    private ModelFolder(string directory, string modelFile, string tokenizerFile)
    {
        Directory = directory;
        ModelFile = modelFile;
        TokenizerFile = tokenizerFile;
    }

    public string Directory { get; }

    public string ModelFile { get; }

    public string TokenizerFile { get; }

    /// <summary>Pooling declared by 1_Pooling/config.json; null when the folder does not say.</summary>
    public PoolingMode? DeclaredPooling { get; private set; }

    /// <summary>sentence_bert_config.json max_seq_length, else tokenizer_config.json model_max_length, else 512 (capped by max_position_embeddings).</summary>
    public int MaxSequenceLength { get; private set; } = DefaultMaxSequenceLength;

    /// <summary>config.json hidden_size, when present.</summary>
    public int? HiddenSize { get; private set; }

    /// <summary>Opens a folder; the message of a failure names the file that is missing.</summary>
    public static ModelFolder Open(string directory)
    {
        var root = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(root))
        {
            throw new FileNotFoundException($"The model folder {root} does not exist (ModelPath).", root);
        }

        var model = new[] { Path.Combine(root, "model.onnx"), Path.Combine(root, "onnx", "model.onnx") }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"The model folder {root} has neither model.onnx nor onnx/model.onnx.", Path.Combine(root, "model.onnx"));
        var tokenizer = Path.Combine(root, "tokenizer.json");
        if (!File.Exists(tokenizer))
        {
            throw new FileNotFoundException($"The model folder {root} has no tokenizer.json.", tokenizer);
        }

        var folder = new ModelFolder(root, model, tokenizer);
        folder.ReadConfiguration();
        return folder;
    }

    /// <summary>A short, stable hash of the model file (the fingerprint's default revision).</summary>
    public string HashModel()
    {
        using var stream = new FileStream(ModelFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..12];
    }

    private void ReadConfiguration()
    {
        int? maxPositions = null;
        using (var config = ReadJson("config.json"))
        {
            if (config is not null)
            {
                HiddenSize = Int(config.RootElement, "hidden_size");
                maxPositions = Int(config.RootElement, "max_position_embeddings");
            }
        }

        int? length = null;
        using (var sentenceBert = ReadJson("sentence_bert_config.json"))
        {
            length = sentenceBert is null ? null : Int(sentenceBert.RootElement, "max_seq_length");
        }

        if (length is null)
        {
            using var tokenizerConfig = ReadJson("tokenizer_config.json");

            // Tokenizers without a limit write a huge sentinel (1e30); only a plausible value counts.
            length = tokenizerConfig is null ? null : Int(tokenizerConfig.RootElement, "model_max_length") is { } declared && declared <= 1 << 16 ? declared : null;
        }

        MaxSequenceLength = length ?? DefaultMaxSequenceLength;
        if (maxPositions is > 0 && MaxSequenceLength > maxPositions)
        {
            MaxSequenceLength = maxPositions.Value;
        }

        using var pooling = ReadJson(Path.Combine("1_Pooling", "config.json"));
        if (pooling is not null)
        {
            if (Bool(pooling.RootElement, "pooling_mode_cls_token"))
            {
                DeclaredPooling = PoolingMode.Cls;
            }
            else if (Bool(pooling.RootElement, "pooling_mode_mean_tokens"))
            {
                DeclaredPooling = PoolingMode.Mean;
            }
            else
            {
                throw new NotSupportedException(
                    $"{Path.Combine(Directory, "1_Pooling", "config.json")} asks for a pooling the onnx provider does not implement (only mean and CLS); set Pooling to override.");
            }
        }
    }

    private JsonDocument? ReadJson(string relative)
    {
        var path = Path.Combine(Directory, relative);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static int? Int(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetDouble(out var number) && number is >= 1 and <= int.MaxValue
            ? (int)number
            : null;

    private static bool Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
