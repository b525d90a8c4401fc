using RagPlatform.DocumentSamples;
using RagPlatform.Plugins.Documents.Hancom;

namespace RagPlatform.Plugins.Documents.Tests;

public sealed class CompoundFileTests
{
    [Fact]
    public void Streams_written_in_storages_read_back_byte_for_byte()
    {
        var small = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var large = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();
        var file = CompoundFileWriter.Write([("FileHeader", small), ("BodyText/Section0", large), ("BodyText/Section1", [1, 2, 3])]);

        var reader = CompoundFile.Open(file);

        Assert.Equal(small, reader.Read("FileHeader", 1_000_000));
        Assert.Equal(large, reader.Read("BodyText/Section0", 1_000_000));
        Assert.Equal([1, 2, 3], reader.Read("bodytext/section1", 1_000_000));
        Assert.Equal(["Section0", "Section1"], reader.Children("BodyText").Order());
        Assert.Null(reader.Read("ViewText/Section0", 1_000_000));
    }

    [Fact]
    public void A_stream_over_the_limit_is_refused_without_being_read()
    {
        var file = CompoundFileWriter.Write([("Big", new byte[10_000])]);

        var failure = Assert.Throws<Sdk.Documents.DocumentParseException>(() => CompoundFile.Open(file).Read("Big", 5_000));

        Assert.Equal(Sdk.Documents.DocumentParseFailure.TooLarge, failure.Failure);
    }

    [Fact]
    public void Not_a_compound_file_is_reported_as_such()
    {
        var failure = Assert.Throws<Sdk.Documents.DocumentParseException>(() => CompoundFile.Open(new byte[1024]));

        Assert.Contains("not an OLE compound file", failure.Message, StringComparison.Ordinal);
    }
}
