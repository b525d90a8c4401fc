using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Onnx;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;

[assembly: RagPlugin(typeof(OnnxEmbedderPlugin))]

namespace RagPlatform.Plugins.Onnx;

/// <summary>Entry point of the "onnx" provider: a local ONNX model run by ONNX Runtime in this process.</summary>
public sealed class OnnxEmbedderPlugin : IEmbeddingProviderPlugin
{
    public string Name => OnnxEmbeddingProvider.ProviderName;

    public IEmbeddingProvider Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions<OnnxEmbedderOptions>(o => o.Validate());
        var folder = ModelFolder.Open(ResolveModelDirectory(options, context));
        var tokenizer = TokenizerFile.Load(folder.TokenizerFile);
        return new OnnxEmbeddingProvider(options, folder, tokenizer, context.LoggerFactory.CreateLogger<OnnxEmbeddingProvider>());
    }

    /// <summary>
    /// The one place a model folder is found. Today: <see cref="OnnxEmbedderOptions.ModelPath"/>, a local folder
    /// (a relative path resolves against the working directory). The model hub resolver (hub id → cached
    /// download, offline mode, <see cref="OnnxEmbedderOptions.ModelId"/> alone) plugs in here.
    /// </summary>
    internal static string ResolveModelDirectory(OnnxEmbedderOptions options, PluginContext context) =>
        Path.GetFullPath(options.ModelPath!);
}
