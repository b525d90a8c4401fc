using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Tests;

/// <summary>The CLI's own path end to end: an in-process platform on a free port, upload, wait, search.</summary>
public sealed class InProcessPlatformTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Falls_back_in_process_uploads_around_bad_documents_and_searches()
    {
        // Nothing listens on port 1: an implicit server gives way to the in-process platform.
        var settings = new ConnectionSettings(new Uri("http://127.0.0.1:1"), false, Path.Combine(_directory.Path, "data"), []);
        await using var session = await PlatformSession.OpenAsync(settings, CancellationToken.None);
        Assert.True(session.InProcess);
        Assert.NotEqual(1, session.Server.Port);

        SourceItem[] items =
        [
            SourceItem.Of(new DocumentInput("seoul", "서울", "서울은 대한민국의 수도입니다. 한강이 도시를 가로지릅니다.", ["city"], null), "seoul.md"),
            SourceItem.Of(new DocumentInput("blank", null, "   ", null, null), "blank.md"),
            SourceItem.Of(new DocumentInput("busan", "부산", "부산은 항구 도시다. 해운대 해수욕장이 유명하다.", ["city"], null), "busan.md"),
            SourceItem.Invalid("more.jsonl:3", "invalid JSON"),
            SourceItem.Of(new DocumentInput("seoul", null, "중복된 id", null, null), "again.md"),
        ];
        // Batches of two, so the refused document shares a batch with a good one that must still get in.
        var summary = await new IngestRun(session.Client, "cli-test", 2, showProgress: false).RunAsync(items, wait: true, CancellationToken.None);

        Assert.Equal(5, summary.Documents);
        Assert.Equal(2, summary.Succeeded);
        Assert.Equal(3, summary.Failed);
        Assert.Equal(["blank", "more.jsonl:3", "seoul"], summary.Errors.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Contains(summary.Errors, e => e.Id == "blank" && e.Error.StartsWith("text:", StringComparison.Ordinal));

        var again = await new IngestRun(session.Client, "cli-test", 10, showProgress: false).RunAsync(items.Take(1), wait: true, CancellationToken.None);
        Assert.Equal(1, again.Unchanged);
        Assert.Equal(0, again.ChunksEmbedded);

        var response = await session.Client.SearchAsync("cli-test", new SearchRequest("해운대 해수욕장", 5, SearchModes.Dense, null, null), CancellationToken.None);
        Assert.Equal("busan", response.Results[0].DocumentId);
    }

    [Fact]
    public async Task An_explicit_server_that_does_not_answer_is_an_error()
    {
        var settings = new ConnectionSettings(new Uri("http://127.0.0.1:1"), true, Path.Combine(_directory.Path, "data"), []);
        var error = await Assert.ThrowsAsync<CliException>(() => PlatformSession.OpenAsync(settings, CancellationToken.None));
        Assert.Contains("no RagPlatform server answers at http://127.0.0.1:1", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory.Path, "data")));
    }
}
