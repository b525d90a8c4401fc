using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.Plugins.Onnx;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;

[assembly: RagPlugin(typeof(OnnxRerankerPlugin))]

namespace RagPlatform.Plugins.Onnx;

/// <summary>Entry point of the "onnx" reranker: a local cross-encoder run by ONNX Runtime in this process
/// (chosen by <c>RagPlatform:Query:Reranker=onnx</c>, settings under <c>RagPlatform:Query:Rerankers:onnx</c>).</summary>
public sealed class OnnxRerankerPlugin : IRerankerPlugin
{
    public string Name => OnnxReranker.RerankerName;

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new OnnxRerankerOptionsValidator());

    public async ValueTask<IReranker> CreateAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new OnnxRerankerOptionsValidator());
        var folder = ModelFolder.Open(await OnnxEmbedderPlugin.ResolveModelDirectoryAsync(options, context, cancellationToken));
        var tokenizer = TokenizerFile.Load(folder.TokenizerFile);
        return new OnnxReranker(options, folder, tokenizer, context.LoggerFactory.CreateLogger<OnnxReranker>());
    }
}
