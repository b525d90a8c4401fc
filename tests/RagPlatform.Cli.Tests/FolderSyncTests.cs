using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Contracts.Http;
using RagPlatform.DocumentSamples;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag ingest --sync DIR</c> on the in-process platform: a collection that mirrors a folder of real files.</summary>
public sealed class FolderSyncTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Syncing_an_unchanged_folder_embeds_nothing_and_a_deleted_file_takes_its_document_along()
    {
        var folder = Path.Combine(_directory.Path, "docs");
        Directory.CreateDirectory(Path.Combine(folder, "공문"));
        var report = SampleDocument.Report(sections: 4, tableRows: 4);
        await File.WriteAllBytesAsync(Path.Combine(folder, "공문", "report.hwpx"), HancomSamples.Hwpx(report));
        await File.WriteAllBytesAsync(Path.Combine(folder, "tables.xlsx"), OfficeSamples.Xlsx(report));
        await File.WriteAllTextAsync(Path.Combine(folder, "guide.md"), "# 건강검진 안내\n\n검진 전날 밤 9시부터 금식합니다.\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "broken.pdf"), "%PDF-1.7 truncated");

        var settings = new ConnectionSettings(new Uri("http://127.0.0.1:1"), false, Path.Combine(_directory.Path, "data"), []);
        await using var session = await PlatformSession.OpenAsync(settings, CancellationToken.None);

        var first = await SyncAsync(session, folder);
        Assert.Equal((4, 3, 1), (first.Summary.Documents, first.Summary.Succeeded, first.Summary.Failed));
        var error = Assert.Single(first.Summary.Errors);
        Assert.Equal("broken.pdf", error.Id);
        Assert.Contains("PDF", error.Error, StringComparison.Ordinal);
        Assert.True(first.Summary.ChunksEmbedded > 0);

        var again = await SyncAsync(session, folder);
        Assert.Equal(3, again.Summary.Unchanged);
        Assert.Equal(0, again.Summary.ChunksEmbedded);
        Assert.Empty(again.Deleted);

        File.Delete(Path.Combine(folder, "guide.md"));
        var after = await SyncAsync(session, folder);
        Assert.Equal(["guide.md"], after.Deleted);
        Assert.Equal(0, after.Summary.ChunksEmbedded);
        Assert.Equal(["tables.xlsx", "공문/report.hwpx"], await session.Client.ListAllDocumentIdsAsync("synced", CancellationToken.None));
        var search = await session.Client.SearchAsync("synced", new SearchRequest("건강검진 금식", 5, SearchModes.Lexical, null, null), CancellationToken.None);
        Assert.DoesNotContain(search.Results, r => r.DocumentId == "guide.md");
    }

    private static async Task<(IngestSummary Summary, IReadOnlyList<string> Deleted)> SyncAsync(PlatformSession session, string folder)
    {
        var run = new IngestRun(session.Client, "synced", 100, showProgress: false);
        var summary = await run.RunAsync(DocumentFileReader.Read([folder]), wait: true, CancellationToken.None);
        return (summary, await run.DeleteVanishedAsync(CancellationToken.None));
    }
}
