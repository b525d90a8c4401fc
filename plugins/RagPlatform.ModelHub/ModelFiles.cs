namespace RagPlatform.ModelHub;

/// <summary>The files of a sentence-embedding model in the Hugging Face layout, and which of them must exist.</summary>
public static class ModelFiles
{
    /// <summary>Where the ONNX model may sit, in the order they are tried.</summary>
    public static readonly IReadOnlyList<string> ModelCandidates = ["onnx/model.onnx", "model.onnx"];

    /// <summary>Files every model needs besides the ONNX graph.</summary>
    public static readonly IReadOnlyList<string> Required = ["tokenizer.json", "config.json"];

    /// <summary>Files used when present (a 404 for them is fine).</summary>
    public static readonly IReadOnlyList<string> Optional =
        ["tokenizer_config.json", "special_tokens_map.json", "1_Pooling/config.json", "sentence_bert_config.json"];

    /// <summary>The ONNX model file in a model folder, or null.</summary>
    public static string? FindModel(string folder) =>
        ModelCandidates.Select(candidate => Path.Combine(folder, candidate)).FirstOrDefault(File.Exists);

    /// <summary>Whether a folder holds a usable model: an ONNX graph and every required file.</summary>
    public static bool IsComplete(string folder) =>
        Directory.Exists(folder) && FindModel(folder) is not null && Required.All(file => File.Exists(Path.Combine(folder, file)));

    /// <summary>What a folder lacks, for error messages.</summary>
    public static IEnumerable<string> Missing(string folder)
    {
        if (FindModel(folder) is null)
        {
            yield return string.Join(" or ", ModelCandidates);
        }

        foreach (var file in Required.Where(file => !File.Exists(Path.Combine(folder, file))))
        {
            yield return file;
        }
    }
}
