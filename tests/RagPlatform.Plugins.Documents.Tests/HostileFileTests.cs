using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using RagPlatform.DocumentSamples;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

/// <summary>Files built to hurt a parser fail alone, with a reason a person can act on, and fast.</summary>
public sealed class HostileFileTests
{
    private static readonly SampleDocument Report = SampleDocument.Report(sections: 4, tableRows: 4);

    [Fact]
    public async Task A_password_protected_pdf_is_refused_as_protected()
    {
        var failure = await Parse.FailureAsync("secret.pdf", PdfSample.Write(Report, userPassword: "비밀"));

        Assert.Equal(DocumentParseFailure.Protected, failure.Failure);
        Assert.Contains("password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pdf_that_is_only_a_header_fails_as_corrupt()
    {
        var failure = await Parse.FailureAsync("broken.pdf", "%PDF-1.7\n1 0 obj\n<< /Type /Catalog"u8.ToArray());

        Assert.Equal(DocumentParseFailure.Corrupt, failure.Failure);
    }

    [Fact]
    public async Task An_office_zip_bomb_is_refused_before_it_is_inflated()
    {
        // A DOCX whose one extra entry inflates 4 MB of zeros from a few kilobytes, over a 1 MB inflate budget.
        var docx = OfficeSamples.Docx(Report);
        using var bomb = new MemoryStream();
        bomb.Write(docx);
        using (var zip = new ZipArchive(bomb, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var stream = zip.CreateEntry("word/media/zeros.bin", CompressionLevel.SmallestSize).Open();
            stream.Write(new byte[4 * 1024 * 1024]);
        }

        var failure = await Parse.FailureAsync("bomb.docx", bomb.ToArray(), new DocumentParseLimits { MaxDecompressedBytes = 1024 * 1024 });

        Assert.Equal(DocumentParseFailure.TooLarge, failure.Failure);
        Assert.Contains("ZIP bomb", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archive_of_too_many_entries_is_refused_from_its_directory()
    {
        var hwpx = HancomSamples.Hwpx(Report);
        using var crowded = new MemoryStream();
        crowded.Write(hwpx);
        using (var zip = new ZipArchive(crowded, ZipArchiveMode.Update, leaveOpen: true))
        {
            for (var i = 0; i < 300; i++)
            {
                zip.CreateEntry($"BinData/empty{i}.bin");
            }
        }

        var failure = await Parse.FailureAsync("crowded.hwpx", crowded.ToArray(), new DocumentParseLimits { MaxArchiveEntries = 100 });

        Assert.Equal(DocumentParseFailure.TooLarge, failure.Failure);
        Assert.Contains("entries", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hwpx_sections_are_bounded_by_the_inflate_budget()
    {
        var failure = await Parse.FailureAsync("big.hwpx", HancomSamples.Hwpx(SampleDocument.Report(sections: 40)), new DocumentParseLimits { MaxDecompressedBytes = 20_000 });

        Assert.Equal(DocumentParseFailure.TooLarge, failure.Failure);
    }

    [Fact]
    public async Task An_hwp_record_that_claims_more_bytes_than_remain_fails_as_corrupt()
    {
        var failure = await Parse.FailureAsync("broken.hwp", HancomSamples.Hwp(Report, new HancomSamples.HwpOptions(BreakRecord: true)));

        Assert.Equal(DocumentParseFailure.Corrupt, failure.Failure);
        Assert.Contains("BodyText/Section0 has a broken record", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_distribution_protected_hwp_is_refused_with_that_reason()
    {
        var failure = await Parse.FailureAsync("배포용.hwp", HancomSamples.Hwp(Report, new HancomSamples.HwpOptions(Distribution: true)));

        Assert.Equal(DocumentParseFailure.Protected, failure.Failure);
        Assert.Contains("배포용", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_compound_file_whose_sector_chain_loops_fails_as_corrupt()
    {
        var hwp = HancomSamples.Hwp(Report);
        // Point every FAT entry of the first FAT sector at sector 0: every chain now loops.
        var firstFat = BinaryPrimitives.ReadUInt32LittleEndian(hwp.AsSpan(76));
        var fat = hwp.AsSpan((int)((firstFat + 1) * 512), 512);
        for (var i = 0; i < 128; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(fat[(4 * i)..]) < 0xFFFFFFFA)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(fat[(4 * i)..], 0);
            }
        }

        var failure = await Parse.FailureAsync("loop.hwp", hwp);

        Assert.Equal(DocumentParseFailure.Corrupt, failure.Failure);
    }

    [Fact]
    public void An_empty_file_is_refused_as_empty() =>
        Assert.Equal(DocumentParseFailure.Empty, Assert.Throws<DocumentParseException>(() => ContentSniffer.Sniff("empty.pdf", Array.Empty<byte>())).Failure);

    [Fact]
    public void A_name_that_promises_another_format_is_refused()
    {
        var failure = Assert.Throws<DocumentParseException>(() => ContentSniffer.Sniff("report.pdf", OfficeSamples.Docx(Report)));

        Assert.Equal(DocumentParseFailure.WrongType, failure.Failure);
        Assert.Contains("Word document (DOCX)", failure.Message, StringComparison.Ordinal);
        Assert.Equal(DocumentParseFailure.WrongType,
            Assert.Throws<DocumentParseException>(() => ContentSniffer.Sniff("scan.hwp", "just text"u8.ToArray())).Failure);
    }

    [Fact]
    public async Task Images_drawn_without_text_yield_no_document()
    {
        var failure = await Parse.FailureAsync("blank.hwpx", HancomSamples.Hwpx(new SampleDocument("", "", [])));

        Assert.Equal(DocumentParseFailure.Empty, failure.Failure);
    }

    /// <summary>
    /// Bounded fuzzing: each format's sample with random bytes overwritten, cut short or zeroed. Every outcome is a
    /// document or a <see cref="DocumentParseException"/>; anything else is a parser bug. About 1,400 files, a few seconds.
    /// </summary>
    [Theory]
    [InlineData("f.hwp")]
    [InlineData("f.hwpx")]
    [InlineData("f.pdf")]
    [InlineData("f.docx")]
    [InlineData("f.xlsx")]
    [InlineData("f.pptx")]
    [InlineData("f.html")]
    public async Task Damaged_files_parse_or_fail_with_a_reason(string name)
    {
        var original = Path.GetExtension(name) switch
        {
            ".hwp" => HancomSamples.Hwp(Report),
            ".hwpx" => HancomSamples.Hwpx(Report),
            ".pdf" => PdfSample.Write(Report),
            ".docx" => OfficeSamples.Docx(Report),
            ".xlsx" => OfficeSamples.Xlsx(Report),
            ".pptx" => OfficeSamples.Pptx(Report),
            _ => WebSamples.Html(Report),
        };
        var random = new Random(name.Length * 7919);
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < 200 && clock.Elapsed < TimeSpan.FromSeconds(20); round++)
        {
            var damaged = (byte[])original.Clone();
            switch (round % 3)
            {
                case 0:
                    for (var i = 0; i < 1 + random.Next(16); i++)
                    {
                        damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
                    }

                    break;
                case 1:
                    damaged = damaged[..random.Next(1, damaged.Length)];
                    break;
                default:
                    var at = random.Next(damaged.Length);
                    Array.Clear(damaged, at, Math.Min(damaged.Length - at, 1 + random.Next(512)));
                    break;
            }

            try
            {
                await Parse.FileAsync(name, damaged, new DocumentParseLimits { MaxDecompressedBytes = 64 * 1024 * 1024 });
            }
            catch (DocumentParseException)
            {
                // A clear refusal: what hostile bytes should get.
            }
        }
    }
}
