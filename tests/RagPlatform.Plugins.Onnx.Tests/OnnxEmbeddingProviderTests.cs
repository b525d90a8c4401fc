using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Onnx.Tests;

public sealed class OnnxEmbeddingProviderTests
{
    private const string Text = "한국어 검색 model 2024";

    [Fact]
    public async Task MeanPoolingAndNormalisationEqualAHandComputationOverTheModelsTokenVectors()
    {
        await using var provider = OnnxTestSupport.Provider();
        var tokens = new CodePointTokenizer(OnnxTestSupport.TinyBertVocabulary).Encode(Text, 128);
        var hidden = HiddenStates(tokens.InputIds);

        var expected = new double[OnnxTestSupport.TinyBertHidden];
        for (var t = 0; t < tokens.Length; t++)
        {
            for (var d = 0; d < expected.Length; d++)
            {
                expected[d] += hidden[(t * expected.Length) + d] / tokens.Length;
            }
        }

        var norm = Math.Sqrt(expected.Sum(v => v * v));
        var actual = (await provider.EmbedAsync([Text], EmbeddingPurpose.Document, CancellationToken.None))[0];

        Assert.True(actual.Succeeded, actual.Error);
        Assert.Equal(tokens.Length, actual.Tokens);
        for (var d = 0; d < expected.Length; d++)
        {
            Assert.Equal(expected[d] / norm, actual.Vector![d], 5);
        }
    }

    [Fact]
    public async Task ClsPoolingTakesTheFirstTokensVector()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.Pooling, o.Normalize) = ("cls", false));
        var tokens = new CodePointTokenizer(OnnxTestSupport.TinyBertVocabulary).Encode(Text, 128);
        var hidden = HiddenStates(tokens.InputIds);

        var actual = (await provider.EmbedAsync([Text], EmbeddingPurpose.Document, CancellationToken.None))[0];

        Assert.Equal("cls", provider.Fingerprint.Pooling);
        Assert.Equal("none", provider.Fingerprint.Normalization);
        for (var d = 0; d < OnnxTestSupport.TinyBertHidden; d++)
        {
            Assert.Equal(hidden[d], actual.Vector![d], 5);
        }
    }

    [Fact]
    public async Task PaddingBesideLongerTextsDoesNotChangeAVector()
    {
        await using var provider = OnnxTestSupport.Provider();
        var alone = (await provider.EmbedAsync(["짧은 글"], EmbeddingPurpose.Document, CancellationToken.None))[0].Vector!;

        var padded = await provider.EmbedAsync(
            ["짧은 글", new string('가', 100), "a much longer English sentence that pads the short one"], EmbeddingPurpose.Document, CancellationToken.None);

        Assert.True(OnnxTestSupport.Cosine(alone, padded[0].Vector!) > 0.99999f);
    }

    [Fact]
    public async Task FingerprintNamesTheModelItsHashDimensionsPoolingAndNormalisation()
    {
        await using var provider = OnnxTestSupport.Provider();

        var fingerprint = provider.Fingerprint;

        Assert.Equal("onnx", fingerprint.Provider);
        Assert.Equal("tiny-bert", fingerprint.Model);
        Assert.Matches("^[0-9a-f]{12}$", fingerprint.Revision);
        Assert.Equal(OnnxTestSupport.TinyBertHidden, fingerprint.Dimensions);
        Assert.Equal("mean", fingerprint.Pooling);
        Assert.Equal("l2", fingerprint.Normalization);
        Assert.Equal(128, provider.MaxInputTokens); // sentence_bert_config.json max_seq_length
    }

    [Fact]
    public async Task InputsAreTruncatedToTheMaximumSequenceLength()
    {
        await using var provider = OnnxTestSupport.Provider(o => o.MaxSequenceLength = 20);

        var result = (await provider.EmbedAsync([new string('나', 500)], EmbeddingPurpose.Document, CancellationToken.None))[0];

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(20, result.Tokens);
        Assert.Equal(502, provider.CountTokens(new string('나', 500)));
    }

    [Theory]
    [InlineData("intfloat/multilingual-e5-small", "query: ", "passage: ")]
    [InlineData("intfloat/e5-base-v2", "query: ", "passage: ")]
    [InlineData("nlpai-lab/KoE5", "query: ", "passage: ")]
    [InlineData("BAAI/bge-m3", "", "")]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2", "", "")]
    public async Task E5ModelsGetTheirPrefixesByDefault(string modelId, string query, string document)
    {
        await using var provider = OnnxTestSupport.Provider(o => o.ModelId = modelId);

        Assert.Equal(query, provider.QueryPrefix);
        Assert.Equal(document, provider.DocumentPrefix);
        Assert.Equal(modelId, provider.Fingerprint.Model);
    }

    [Fact]
    public async Task PrefixesMakeQueryAndDocumentVectorsDiffer()
    {
        await using var provider = OnnxTestSupport.Provider(o => (o.QueryPrefix, o.DocumentPrefix) = ("query: ", "passage: "));

        var query = (await provider.EmbedAsync([Text], EmbeddingPurpose.Query, CancellationToken.None))[0];
        var document = (await provider.EmbedAsync([Text], EmbeddingPurpose.Document, CancellationToken.None))[0];
        await using var plain = OnnxTestSupport.Provider(o => o.QueryPrefix = "");
        var prefixedByHand = (await plain.EmbedAsync(["query: " + Text], EmbeddingPurpose.Query, CancellationToken.None))[0];

        Assert.True(OnnxTestSupport.Cosine(query.Vector!, document.Vector!) < 0.9999f);
        Assert.True(OnnxTestSupport.Cosine(query.Vector!, prefixedByHand.Vector!) > 0.99999f);
    }

    [Fact]
    public async Task ProvidersOfTheSameModelShareOneSession()
    {
        var before = SharedModels.LoadedCount;
        await using var first = OnnxTestSupport.Provider();
        await using var second = OnnxTestSupport.Provider(o => (o.Pooling, o.ModelId) = ("cls", "other-name"));

        Assert.Equal(before + 1, SharedModels.LoadedCount);
        Assert.Same(first.Batcher, second.Batcher);

        await first.DisposeAsync();
        Assert.Equal(before + 1, SharedModels.LoadedCount);
        Assert.True((await second.EmbedAsync(["여전히 동작"], EmbeddingPurpose.Query, CancellationToken.None))[0].Succeeded);

        await second.DisposeAsync();
        Assert.Equal(before, SharedModels.LoadedCount);
    }

    [Fact]
    public async Task ADisposedProviderRefusesWork()
    {
        var provider = OnnxTestSupport.Provider();
        await provider.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => provider.EmbedAsync(["x"], EmbeddingPurpose.Document, CancellationToken.None));
    }

    [Fact]
    public async Task PluginRefusesSettingsWithoutAModelPathNamingTheSetting()
    {
        using var data = new TempDirectory();
        var context = PluginContexts.FromSettings(new Dictionary<string, string?> { ["MaxBatchTokens"] = "4" }, data.Path);

        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new OnnxEmbedderPlugin().CreateAsync(context, default));

        Assert.Contains(error.Problems, p => p.StartsWith("ModelPath", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("MaxBatchTokens", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelFolderWithoutAModelOrTokenizerSaysWhichFileIsMissing()
    {
        using var folder = new TempDirectory();

        var noModel = Assert.Throws<FileNotFoundException>(() => ModelFolder.Open(folder.Path));
        Directory.CreateDirectory(Path.Combine(folder.Path, "onnx"));
        File.Copy(Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), Path.Combine(folder.Path, "onnx", "model.onnx"));
        var noTokenizer = Assert.Throws<FileNotFoundException>(() => ModelFolder.Open(folder.Path));

        Assert.Contains("neither model.onnx nor onnx/model.onnx", noModel.Message, StringComparison.Ordinal);
        Assert.Contains("no tokenizer.json", noTokenizer.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => ModelFolder.Open(Path.Combine(folder.Path, "absent")));
    }

    [Fact]
    public void ModelFolderReadsPoolingAndSequenceLengthFromItsConfigFiles()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(Path.Combine(folder.Path, "model.onnx"), "x");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer.json"), "{}");
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), """{"hidden_size": 768, "max_position_embeddings": 514}""");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), """{"model_max_length": 1000000000000000019884624838656}""");
        Directory.CreateDirectory(Path.Combine(folder.Path, "1_Pooling"));
        File.WriteAllText(Path.Combine(folder.Path, "1_Pooling", "config.json"), """{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}""");

        var model = ModelFolder.Open(folder.Path);

        Assert.Equal(PoolingMode.Cls, model.DeclaredPooling);
        Assert.Equal(768, model.HiddenSize);
        Assert.Equal(512, model.MaxSequenceLength); // no sentence_bert_config, an unbounded tokenizer: 512
        Assert.Equal(Path.Combine(folder.Path, "model.onnx"), model.ModelFile);
    }

    /// <summary>last_hidden_state of one unpadded row, straight from the session.</summary>
    private static float[] HiddenStates(int[] ids)
    {
        using var session = new OnnxModelSession(Path.Combine(OnnxTestSupport.TinyBert, "onnx", "model.onnx"), OnnxTestSupport.Options(), NullLogger.Instance);
        using var runOptions = new RunOptions();
        using var output = session.Run([new Tokenizers.TokenizedText(ids, new int[ids.Length])], 0, "last_hidden_state", runOptions);
        return output.Data.ToArray();
    }
}
