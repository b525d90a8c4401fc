using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.EndToEnd.Tests;

/// <summary>
/// What the crash test knows about each document: the operations it issued, in order, and which of them it saw settle.
/// A document is <em>settled</em> when the last operation issued on it is known to have taken effect: an ingest whose job
/// reported the document succeeded (before the crash, or after the restart), or a delete answered 204/404. Only settled
/// documents have an expected state; the others may be in either state, and only the stores' agreement is checked for them.
/// </summary>
public sealed class CrashModel
{
    private readonly object _gate = new();
    private readonly Dictionary<string, TrackedDocument> _documents = new(StringComparer.Ordinal);
    private readonly List<TrackedJob> _jobs = [];
    private long _operations;

    public sealed class TrackedDocument(string id)
    {
        public string Id { get; } = id;

        /// <summary>The last operation issued on the document.</summary>
        public long LastOperation { get; set; }

        /// <summary>Every token an ingest of this document ever carried (each version has its own).</summary>
        public List<string> Tokens { get; } = [];

        /// <summary>The token of the version the document must hold, when settled present; null when settled deleted.</summary>
        public string? Expected { get; set; }

        public bool Settled { get; set; }
    }

    /// <param name="Documents">Per document of the job: the token of its version and the operation that sent it.</param>
    public sealed record TrackedJob(Guid JobId, string Kind, IReadOnlyList<(string Id, string Token, long Operation)> Documents)
    {
        public string? FinalState { get; set; }
    }

    public int Completed { get; private set; }

    public int Deleted { get; private set; }

    public int Reindexes { get; private set; }

    public IReadOnlyList<string> KnownIds()
    {
        lock (_gate)
        {
            return [.. _documents.Keys];
        }
    }

    /// <summary>Records that an operation on these documents is about to be sent (its outcome unknown until it settles).</summary>
    public long Issue(IEnumerable<(string Id, string? Token)> documents)
    {
        lock (_gate)
        {
            var operation = ++_operations;
            foreach (var (id, token) in documents)
            {
                if (!_documents.TryGetValue(id, out var document))
                {
                    _documents[id] = document = new TrackedDocument(id);
                }

                document.LastOperation = operation;
                document.Settled = false;
                if (token is not null)
                {
                    document.Tokens.Add(token);
                }
            }

            return operation;
        }
    }

    public void Accepted(TrackedJob job)
    {
        lock (_gate)
        {
            _jobs.Add(job);
            if (job.Kind == "reindex")
            {
                Reindexes++;
            }
        }
    }

    public void DeleteAnswered(string id, long operation)
    {
        lock (_gate)
        {
            var document = _documents[id];
            if (document.LastOperation == operation)
            {
                document.Settled = true;
                document.Expected = null;
                Deleted++;
            }
        }
    }

    public IReadOnlyList<TrackedJob> Unfinished()
    {
        lock (_gate)
        {
            return _jobs.Where(j => j.FinalState is null).ToList();
        }
    }

    /// <summary>A job reached a final state: each of its documents that succeeded and was not operated on since is settled.</summary>
    public void Finished(TrackedJob job, JobStatus status)
    {
        lock (_gate)
        {
            job.FinalState = status.State;
            if (job.Kind == "reindex")
            {
                return;
            }

            var failed = status.Errors.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var (id, token, operation) in job.Documents)
            {
                var document = _documents[id];
                if (document.LastOperation == operation && !failed.Contains(id))
                {
                    document.Settled = true;
                    document.Expected = token;
                    Completed++;
                }
            }
        }
    }

    public IReadOnlyList<TrackedDocument> SettledDocuments()
    {
        lock (_gate)
        {
            return _documents.Values.Where(d => d.Settled).ToList();
        }
    }
}

/// <summary>
/// One cycle's traffic against the host until it is killed: JSON batches and files (new documents and new versions of
/// known ones), deletes, one re-index, and job polls. With the stores' compaction thresholds at their minimum
/// (4 KiB), nearly every write batch also folds a log into a snapshot, so the kill lands in compactions as well.
/// </summary>
public sealed class CrashWorkload(Uri address, CrashModel model, Random random, int cycle, string collection, int killAfterOperations)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Paragraphs to build documents from; each version of a document draws a new mix, so a new version keeps some
    // chunks, drops some and adds some.
    private static readonly string[] Paragraphs =
    [
        "건강검진 전날에는 저녁 9시 이후 금식하고 물만 마실 수 있습니다. 혈압약은 아침에 소량의 물과 함께 복용하세요.",
        "주택담보대출의 중도상환수수료는 대출 실행 후 3년이 지나면 면제됩니다. 변동금리는 매달 코픽스에 연동됩니다.",
        "게임 위키의 보스 공략: 2페이즈에서는 바닥 장판을 피하고 기둥 뒤로 숨어 광역기를 피하세요.",
        "The embedding worker keeps one loaded model per process and batches requests by token budget.",
        "표 형식의 문서는 셀 단위로 나누지 않고 행 단위로 묶어서 청크를 만들면 검색 품질이 좋아집니다.",
        "Blue/green re-indexing builds the new version beside the active one and switches when every document is copied.",
        "AI 도구 카탈로그에는 요약, 번역, 코드 생성 도구가 분류별로 정리되어 있으며 가격 정보도 함께 제공됩니다.",
        "Compaction folds the append-only log into a fresh snapshot, written to a temporary file and renamed into place.",
        "청크마다 내용 해시를 계산해서 바뀌지 않은 청크는 다시 임베딩하지 않고 그대로 둡니다.",
        "A crash between the vector write and the metadata commit must leave nothing that the restart cannot explain.",
    ];

    private int _next;

    // Each cycle starts one re-index, at a random moment before or around the kill: copying every document into the
    // new version takes a while, so the kill often lands in it.
    private readonly int _reindexAt = random.Next(0, killAfterOperations + 3);

    public int Operations { get; private set; }

    /// <summary>Completes once <c>killAfterOperations</c> operations were answered: the kill is timed from there, so it
    /// lands in the middle of the traffic however slowly the machine runs.</summary>
    public Task Busy => _reached.Task;

    /// <summary>Runs until a request fails because the host is gone (or after a bounded number of operations).</summary>
    public async Task RunAsync()
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            for (var i = 0; i < 400; i++)
            {
                var roll = random.Next(100);
                if (i == _reindexAt)
                {
                    await ReindexAsync(client);
                }
                else if (roll < 45)
                {
                    await IngestDocumentsAsync(client);
                }
                else if (roll < 60)
                {
                    await IngestFilesAsync(client);
                }
                else if (roll < 80)
                {
                    await DeleteAsync(client);
                }
                else
                {
                    await PollAsync(client);
                }

                if (++Operations == killAfterOperations)
                {
                    _reached.TrySetResult();
                }

                await Task.Delay(random.Next(0, 20));
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // The host was killed under this request: its outcome stays unknown (the documents stay unsettled).
        }
        finally
        {
            _reached.TrySetResult();
        }
    }

    /// <summary>Polls every job not yet seen final; settles what finished.</summary>
    public static async Task PollAsync(HttpClient client, CrashModel model)
    {
        foreach (var job in model.Unfinished())
        {
            var status = await client.GetFromJsonAsync<JobStatus>($"/v1/jobs/{job.JobId}", Json)
                ?? throw new InvalidOperationException($"Job {job.JobId} answered null.");
            if (status.State is not (JobStates.Queued or JobStates.Running))
            {
                model.Finished(job, status);
            }
        }
    }

    private Task PollAsync(HttpClient client) => PollAsync(client, model);

    private (string Id, string Token) NextVersion(bool file)
    {
        var known = model.KnownIds().Where(id => id.EndsWith(".md", StringComparison.Ordinal) == file).ToList();
        var id = known.Count > 0 && random.Next(100) < 30
            ? known[random.Next(known.Count)]
            : string.Create(CultureInfo.InvariantCulture, $"c{cycle:D3}-{_next++:D3}") + (file ? ".md" : "");
        // Letters only: the lexical tokenizer cuts letters from digits, and the token must be one term of its own.
        return (id, "zq" + string.Concat(Guid.NewGuid().ToString("N")[..14].Select(c => (char)('a' + Convert.ToInt32(c.ToString(), 16)))));
    }

    private string Text(string token)
    {
        var text = new StringBuilder().Append("marker ").Append(token).Append(". ");
        var count = random.Next(2, 6);
        for (var i = 0; i < count; i++)
        {
            text.Append(Paragraphs[random.Next(Paragraphs.Length)]).Append("\n\n");
        }

        return text.ToString();
    }

    private async Task IngestDocumentsAsync(HttpClient client)
    {
        var documents = Enumerable.Range(0, random.Next(1, 7)).Select(_ => NextVersion(file: false))
            .DistinctBy(d => d.Id, StringComparer.Ordinal).ToList();
        var operation = model.Issue(documents.Select(d => (d.Id, (string?)d.Token)));
        using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/documents",
            documents.Select(d => new { id = d.Id, title = "문서 " + d.Id, text = Text(d.Token) }).ToList());
        await ExpectAsync(response, HttpStatusCode.Accepted);
        var accepted = (await response.Content.ReadFromJsonAsync<JobAccepted>(Json))!;
        model.Accepted(new CrashModel.TrackedJob(accepted.JobId, "documents", documents.Select(d => (d.Id, d.Token, operation)).ToList()));
    }

    private async Task IngestFilesAsync(HttpClient client)
    {
        var files = Enumerable.Range(0, random.Next(1, 4)).Select(_ => NextVersion(file: true))
            .DistinctBy(d => d.Id, StringComparer.Ordinal).ToList();
        var operation = model.Issue(files.Select(f => (f.Id, (string?)f.Token)));
        using var form = new MultipartFormDataContent();
        foreach (var (id, token) in files)
        {
            var part = new ByteArrayContent(Encoding.UTF8.GetBytes("# " + id + "\n\n" + Text(token)));
            part.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(part, "files", id);
        }

        using var response = await client.PostAsync($"/v1/collections/{collection}/files", form);
        await ExpectAsync(response, HttpStatusCode.Accepted);
        var accepted = (await response.Content.ReadFromJsonAsync<FilesAccepted>(Json))!;
        model.Accepted(new CrashModel.TrackedJob(accepted.JobId, "files", files.Select(f => (f.Id, f.Token, operation)).ToList()));
    }

    private async Task DeleteAsync(HttpClient client)
    {
        var known = model.KnownIds();
        if (known.Count == 0)
        {
            return;
        }

        var id = known[random.Next(known.Count)];
        var operation = model.Issue([(id, null)]);
        using var response = await client.DeleteAsync($"/v1/collections/{collection}/documents/{Uri.EscapeDataString(id)}");
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
        {
            await ExpectAsync(response, HttpStatusCode.NoContent);
        }

        // 204: deleted now; 404: it did not exist (never committed, or deleted before). Absent either way.
        model.DeleteAnswered(id, operation);
    }

    private async Task ReindexAsync(HttpClient client)
    {
        foreach (var dimensions in new[] { "256", "512", "1024" }.OrderBy(_ => random.Next()))
        {
            using var response = await client.PostAsJsonAsync($"/v1/collections/{collection}/reindex",
                new { embedding = new { provider = "hashing", settings = new { Dimensions = dimensions } } });
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                // Already embedded with these dimensions: try others.
                continue;
            }

            await ExpectAsync(response, HttpStatusCode.Accepted);
            var accepted = (await response.Content.ReadFromJsonAsync<ReindexAccepted>(Json))!;
            model.Accepted(new CrashModel.TrackedJob(accepted.JobId, "reindex", []));
            return;
        }
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new CrashTestFailureException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode} (expected {(int)expected}): {await response.Content.ReadAsStringAsync()}");
        }
    }
}

/// <summary>A wrong answer from a live host: a real failure, unlike a request cut by the kill.</summary>
public sealed class CrashTestFailureException(string message) : Exception(message);
