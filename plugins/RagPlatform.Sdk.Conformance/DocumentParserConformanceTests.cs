using RagPlatform.Sdk.Documents;
using Xunit;

namespace RagPlatform.Sdk.Conformance;

/// <summary>
/// The contract every <see cref="IDocumentParserPlugin"/> must honour. A parser plugin's test project derives a class
/// from this one, supplies the plugin and a sample file of one of its content types with phrases the sample holds;
/// the facts below check that the sample's text comes back in sections, and that bytes a parser cannot read (empty,
/// random, cut short) end in a <see cref="DocumentParseException"/> or a document, never another exception, even
/// when one parser instance serves many files at once.
/// </summary>
public abstract class DocumentParserConformanceTests
{
    /// <summary>The plugin under test.</summary>
    protected abstract IDocumentParserPlugin CreatePlugin();

    /// <summary>A file the parser must read: its name, its bytes, and phrases its text holds (whitespace aside).</summary>
    protected abstract (string FileName, byte[] Content, IReadOnlyList<string> Phrases) Sample();

    /// <summary>The content type of <see cref="Sample"/> (by default what <see cref="ContentSniffer"/> finds).</summary>
    protected virtual string SampleContentType => ContentSniffer.Sniff(Sample().FileName, Sample().Content);

    private async Task<IDocumentParser> CreateParserAsync() =>
        await CreatePlugin().CreateAsync(
            PluginContexts.FromSettings(new Dictionary<string, string?>(), Path.Combine(Path.GetTempPath(), "rag-parser-conformance")), CancellationToken.None);

    [Fact]
    public void PluginNamesItselfAndTheContentTypesItReads()
    {
        var plugin = CreatePlugin();

        Assert.False(string.IsNullOrWhiteSpace(plugin.Name));
        Assert.NotEmpty(plugin.ContentTypes);
        Assert.All(plugin.ContentTypes, t => Assert.Contains('/', t));
        Assert.Contains(SampleContentType, plugin.ContentTypes);
    }

    [Fact]
    public async Task SampleComesBackAsSectionsHoldingItsText()
    {
        var (name, content, phrases) = Sample();

        var document = await (await CreateParserAsync()).ParseAsync(new DocumentSource(name, SampleContentType, content), DocumentParseLimits.Default, CancellationToken.None);

        Assert.NotEmpty(document.Sections);
        Assert.All(document.Sections, s => Assert.NotEmpty(s.Blocks));
        var text = Squeeze(string.Join("\n", document.Texts()));
        Assert.All(phrases, p => Assert.Contains(Squeeze(p), text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnreadableBytesAreRefusedWithAReasonNotAnException()
    {
        var parser = await CreateParserAsync();
        var (name, content, _) = Sample();
        var random = new Random(20_261_205);
        var garbage = new byte[4096];
        random.NextBytes(garbage);
        byte[][] inputs = [[], garbage, content[..(content.Length / 2)], content[..Math.Min(content.Length, 64)]];

        foreach (var input in inputs)
        {
            try
            {
                await parser.ParseAsync(new DocumentSource(name, SampleContentType, input), DocumentParseLimits.Default, CancellationToken.None);
            }
            catch (DocumentParseException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }
        }
    }

    [Fact]
    public async Task OneParserServesConcurrentFilesAlike()
    {
        var parser = await CreateParserAsync();
        var (name, content, _) = Sample();

        var documents = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            parser.ParseAsync(new DocumentSource(name, SampleContentType, content), DocumentParseLimits.Default, CancellationToken.None))));

        var first = string.Join("\n", documents[0].Texts());
        Assert.All(documents, d => Assert.Equal(first, string.Join("\n", d.Texts())));
    }

    private static string Squeeze(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
}
