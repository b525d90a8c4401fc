using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using RagPlatform.Contracts.Http;
using RagPlatform.DocumentSamples;
using UglyToad.PdfPig;

namespace RagPlatform.Integration.Tests;

/// <summary><c>POST /v1/collections/{name}/files</c> on the standalone host, with the built-in parser plugins loaded from disk.</summary>
public sealed class FileIngestionTests(FileIngestionTests.FilesFactory factory) : IClassFixture<FileIngestionTests.FilesFactory>
{
    /// <summary>A 1 MB file limit, so the over-limit case needs no large upload.</summary>
    public sealed class FilesFactory : PlatformFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RagPlatform:Ingestion:MaxFileBytes", (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("RagPlatform:Ingestion:MaxFilesRequestBytes", (6 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_thirty_page_korean_pdf_answers_a_question_about_one_table_cell_with_its_header_page_and_section()
    {
        var report = SampleDocument.Report(sections: 68, tableRows: 8);
        var pdf = PdfSample.Write(report);
        var code = SampleDocument.CellCode(24, 3);
        int expectedPage;
        using (var reading = PdfDocument.Open(pdf))
        {
            Assert.True(reading.NumberOfPages >= 30, $"{reading.NumberOfPages} pages");
            expectedPage = reading.GetPages().First(p => p.Text.Contains(code.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal)
                || p.Text.Contains(code, StringComparison.Ordinal)).Number;
        }

        var accepted = await PostFilesAsync("report-pdf", ("보고서/2024-운영보고서.pdf", pdf));
        var file = Assert.Single(accepted.Files);
        Assert.Equal((FileStatuses.Parsed, "application/pdf", "pdf"), (file.Status, file.ContentType, file.Parser));
        Assert.True(file.Pages >= 30);
        Assert.Equal(report.Tables.Count(), file.Tables);
        var job = await _client.WaitForJobAsync(accepted.JobId);
        Assert.Equal((JobStates.Completed, 1), (job.State, job.Succeeded));

        var search = await _client.SearchAsync("report-pdf", new { query = $"비고가 {code}인 항목의 수치는?", topK = 3 });

        var hit = search.Results[0];
        Assert.Equal("보고서/2024-운영보고서.pdf", hit.DocumentId);
        Assert.Equal("2024년 공공기관 운영 보고서", hit.Title);
        var lines = hit.Text.Split('\n');
        Assert.Equal("항목 | 기준 | 수치 | 비고", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("민원 처리 항목3 | ", StringComparison.Ordinal) && l.EndsWith(code, StringComparison.Ordinal));
        Assert.Equal("24. 민원 처리 현황 > 24.1 민원 처리 세부 내용", hit.Section);
        Assert.NotNull(hit.PageStart);
        Assert.InRange(expectedPage, hit.PageStart!.Value, hit.PageEnd!.Value);
        Assert.Equal("application/pdf", hit.Metadata["contentType"].GetString());
        Assert.Equal("홍길동", hit.Metadata["author"].GetString());
        Assert.DoesNotContain(hit.Metadata.Keys, k => k.StartsWith("rag:", StringComparison.Ordinal));

        using var context = await _client.PostAsJsonAsync("/v1/collections/report-pdf/context", new { query = $"비고가 {code}인 항목의 수치는?", maxDocs = 1 });
        var packed = (await context.Content.ReadFromJsonAsync<ContextResponse>(PlatformFactory.Json))!;
        var source = Assert.Single(packed.Sources);
        Assert.Equal("24. 민원 처리 현황 > 24.1 민원 처리 세부 내용", source.Section);
        Assert.Equal(hit.PageStart, source.PageStart);
        Assert.StartsWith($"[1] 2024년 공공기관 운영 보고서 (24. 민원 처리 현황 > 24.1 민원 처리 세부 내용, p. {hit.PageStart}", packed.Context, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_files_fail_alone_with_their_reasons_and_write_nothing()
    {
        var report = SampleDocument.Report(sections: 3, tableRows: 3);
        var docx = OfficeSamples.Docx(report);
        var bomb = ZipBomb(docx);
        var oversized = new byte[1536 * 1024];
        new Random(7).NextBytes(oversized);
        "%PDF-1.7\n"u8.CopyTo(oversized);

        var accepted = await PostFilesAsync("hostile",
            ("good.hwp", HancomSamples.Hwp(report)),
            ("secret.pdf", PdfSample.Write(report, userPassword: "1234")),
            ("bomb.docx", bomb),
            ("broken.hwp", HancomSamples.Hwp(report, new HancomSamples.HwpOptions(BreakRecord: true))),
            ("distribution.hwp", HancomSamples.Hwp(report, new HancomSamples.HwpOptions(Distribution: true))),
            ("empty.txt", []),
            ("huge.pdf", oversized),
            ("renamed.pdf", docx),
            ("truncated.pdf", PdfSample.Write(report)[..2000]),
            ("old.doc", CompoundFileWriter.Write([("WordDocument", new byte[700])])));

        var outcome = accepted.Files.ToDictionary(f => f.Name, f => (f.Status, f.Failure));
        Assert.Equal((FileStatuses.Parsed, (string?)null), outcome["good.hwp"]);
        Assert.Equal((FileStatuses.Failed, "protected"), outcome["secret.pdf"]);
        Assert.Equal((FileStatuses.Failed, "too_large"), outcome["bomb.docx"]);
        Assert.Equal((FileStatuses.Failed, "corrupt"), outcome["broken.hwp"]);
        Assert.Equal((FileStatuses.Failed, "protected"), outcome["distribution.hwp"]);
        Assert.Equal((FileStatuses.Failed, "empty"), outcome["empty.txt"]);
        Assert.Equal((FileStatuses.Failed, "too_large"), outcome["huge.pdf"]);
        Assert.Equal((FileStatuses.Failed, "wrong_type"), outcome["renamed.pdf"]);
        Assert.Equal(FileStatuses.Failed, outcome["truncated.pdf"].Status);
        Assert.Equal((FileStatuses.Failed, "unsupported"), outcome["old.doc"]);
        Assert.Contains("배포용", accepted.Files.Single(f => f.Name == "distribution.hwp").Error, StringComparison.Ordinal);
        Assert.Contains(".docx", accepted.Files.Single(f => f.Name == "old.doc").Error, StringComparison.Ordinal);

        var job = await _client.WaitForJobAsync(accepted.JobId);
        Assert.Equal((JobStates.CompletedWithErrors, 10, 1, 9), (job.State, job.Total, job.Succeeded, job.Failed));
        Assert.Contains(job.Errors, e => e.Id == "secret.pdf" && e.Error.Contains("encrypted", StringComparison.Ordinal));
        var documents = (await _client.GetFromJsonAsync<DocumentList>("/v1/collections/hostile/documents", PlatformFactory.Json))!;
        Assert.Equal(["good.hwp"], documents.Documents.Select(d => d.Id));
        Assert.Equal(1, (await _client.StatsAsync("hostile")).Documents);
    }

    [Fact]
    public async Task Posting_the_same_files_again_is_unchanged_without_parsing_or_embedding()
    {
        var report = SampleDocument.Report(sections: 3, tableRows: 3);
        var files = new[] { ("a/report.hwpx", HancomSamples.Hwpx(report)), ("a/deck.pptx", OfficeSamples.Pptx(report)), ("guide.md", WebSamples.Markdown(report)) };
        var first = await PostFilesAsync("again", files);
        Assert.All(first.Files, f => Assert.Equal(FileStatuses.Parsed, f.Status));
        await _client.WaitForJobAsync(first.JobId);

        var second = await PostFilesAsync("again", files);

        Assert.All(second.Files, f => Assert.Equal(FileStatuses.Unchanged, f.Status));
        Assert.All(second.Files, f => Assert.Null(f.Chunks));
        var job = await _client.WaitForJobAsync(second.JobId);
        Assert.Equal((3, 0L), (job.Unchanged, job.ChunksEmbedded));

        // Other tags make other documents: the file is read again, its chunks' vectors reused.
        using var content = Multipart(files[..1]);
        content.Add(new StringContent("공문"), "tags");
        using var retagged = await _client.PostAsync("/v1/collections/again/files", content);
        var third = (await retagged.Content.ReadFromJsonAsync<FilesAccepted>(PlatformFactory.Json))!;
        Assert.Equal(FileStatuses.Parsed, Assert.Single(third.Files).Status);
        Assert.Equal(0, (await _client.WaitForJobAsync(third.JobId)).ChunksEmbedded);

        using var deleted = await _client.DeleteAsync("/v1/collections/again/documents/a/report.hwpx");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var left = (await _client.GetFromJsonAsync<DocumentList>("/v1/collections/again/documents?limit=1", PlatformFactory.Json))!;
        Assert.Equal(["a/deck.pptx"], left.Documents.Select(d => d.Id));
        Assert.Equal("a/deck.pptx", left.Next);
    }

    [Fact]
    public async Task A_request_that_is_not_a_file_upload_is_a_problem_naming_the_field()
    {
        using var json = await _client.PostAsJsonAsync("/v1/collections/bad-files/files", new { files = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.True((await json.ProblemAsync()).GetProperty("errors").TryGetProperty("Content-Type", out _));

        using var none = new MultipartFormDataContent { { new StringContent("a"), "tags" } };
        using var empty = await _client.PostAsync("/v1/collections/bad-files/files", none);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.True((await empty.ProblemAsync()).GetProperty("errors").TryGetProperty("files", out _));

        using var twice = await _client.PostAsync("/v1/collections/bad-files/files", Multipart([("a.txt", "하나"u8.ToArray()), ("a.txt", "둘"u8.ToArray())]));
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.True((await twice.ProblemAsync()).GetProperty("errors").TryGetProperty("files[1]", out _));

        using var reserved = Multipart([("a.txt", "본문"u8.ToArray())]);
        reserved.Add(new StringContent("""{"rag:section": "가짜"}"""), "metadata");
        using var refused = await _client.PostAsync("/v1/collections/bad-files/files", reserved);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_request_limit_is_refused_whole_with_413()
    {
        var files = Enumerable.Range(0, 7).Select(i => ($"part{i}.txt", new byte[1024 * 1024])).ToArray();
        foreach (var (_, bytes) in files)
        {
            bytes.AsSpan().Fill((byte)'a');
        }

        using var response = await _client.PostAsync("/v1/collections/too-big/files", Multipart(files));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MaxFilesRequestBytes", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var stats = await _client.GetAsync("/v1/collections/too-big");
        Assert.Equal(HttpStatusCode.NotFound, stats.StatusCode);
    }

    private async Task<FilesAccepted> PostFilesAsync(string collection, params (string Name, byte[] Bytes)[] files)
    {
        using var content = Multipart(files);
        using var response = await _client.PostAsync($"/v1/collections/{collection}/files", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<FilesAccepted>(PlatformFactory.Json))!;
    }

    private static MultipartFormDataContent Multipart(IEnumerable<(string Name, byte[] Bytes)> files)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            // What the client claims is ignored: the server sniffs.
            part.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            content.Add(part, "files", name);
        }

        return content;
    }

    /// <summary>A valid DOCX plus an entry that inflates 8 MB of zeros from a few kilobytes.</summary>
    private static byte[] ZipBomb(byte[] docx)
    {
        using var bomb = new MemoryStream();
        bomb.Write(docx);
        using (var zip = new ZipArchive(bomb, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var stream = zip.CreateEntry("word/media/zeros.bin", CompressionLevel.SmallestSize).Open();
            stream.Write(new byte[8 * 1024 * 1024]);
        }

        return bomb.ToArray();
    }
}
