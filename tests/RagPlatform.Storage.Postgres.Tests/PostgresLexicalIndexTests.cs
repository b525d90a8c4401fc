using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Storage.Postgres.Tests;

/// <summary>
/// The Postgres lexical index against the embedded one (the reference) on Korean text: the repository's
/// samples/korean documents and the end-to-end tests' mini-BEIR corpus, cut into paragraphs.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLexicalIndexTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly string[] Queries =
    [
        "검진 전날 몇 시부터 금식해야 하나요?", "변동금리 대출 이자가 오르는 이유", "전사 방패 막기 재사용 대기시간",
        "은행 금리", "건강검진 금식", "예금 이율 3.5", "대출", "내시경", "없는단어", "패치 노트 밸런스",
        "변동금리 대출과 고정금리 대출의 금리 차이", // repeated terms: weighed by BM25's query-term saturation in SQL too
    ];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-pglex-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<string> _collections = [];
    private NpgsqlDataSource _sourceA = null!;
    private NpgsqlDataSource _sourceB = null!;
    private PostgresLexicalIndex _indexA = null!;
    private PostgresLexicalIndex _indexB = null!;
    private EmbeddedLexicalIndex _embedded = null!;

    public Task InitializeAsync()
    {
        _sourceA = server.CreateDataSource();
        _sourceB = server.CreateDataSource();
        _indexA = new PostgresLexicalIndex(_sourceA, new PostgresSchemaMigrator(_sourceA), new LexicalOptions());
        _indexB = new PostgresLexicalIndex(_sourceB, new PostgresSchemaMigrator(_sourceB), new LexicalOptions());
        _embedded = new EmbeddedLexicalIndex(_directory, new LexicalOptions(), NullLogger<EmbeddedLexicalIndex>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var collection in _collections)
        {
            await _indexA.DeleteCollectionAsync(collection, default);
        }

        _embedded.Dispose();
        await _sourceA.DisposeAsync();
        await _sourceB.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Ranks_and_scores_every_query_as_the_embedded_index_does()
    {
        var collection = NewCollection();
        var corpus = KoreanCorpus();
        Assert.True(corpus.Count > 20);
        await _embedded.UpsertAsync(collection, corpus, default);
        foreach (var batch in corpus.Chunk(7))
        {
            await _indexA.UpsertAsync(collection, batch, default);
        }

        foreach (var query in Queries)
        {
            foreach (var topK in new[] { 1, 5, 50 })
            {
                AssertSameHits(
                    await _embedded.SearchAsync(collection, query, topK, null, default),
                    await _indexA.SearchAsync(collection, query, topK, null, default));
            }
        }
    }

    [Fact]
    public async Task Filters_select_what_the_embedded_index_selects()
    {
        var collection = NewCollection();
        var corpus = KoreanCorpus();
        await _embedded.UpsertAsync(collection, corpus, default);
        await _indexA.UpsertAsync(collection, corpus, default);
        var filters = new[]
        {
            new VectorFilter(["even"], PointPayload.NoMetadata),
            new VectorFilter([], new Dictionary<string, JsonElement> { ["year"] = JsonSerializer.SerializeToElement(2024.0) }),
            new VectorFilter(["even", "korean"], new Dictionary<string, JsonElement> { ["source"] = JsonSerializer.SerializeToElement("samples") }),
            new VectorFilter(["missing"], PointPayload.NoMetadata),
        };

        foreach (var filter in filters)
        {
            foreach (var query in Queries)
            {
                AssertSameHits(
                    await _embedded.SearchAsync(collection, query, 5, filter, default),
                    await _indexA.SearchAsync(collection, query, 5, filter, default));
            }
        }
    }

    [Fact]
    public async Task Adding_changing_and_deleting_leaves_the_index_a_rebuild_would_build()
    {
        var incremental = NewCollection();
        var rebuilt = NewCollection();
        var corpus = KoreanCorpus();
        await _indexA.UpsertAsync(incremental, corpus, default);
        // Change some chunks (new text and tags), delete others by id and a whole document, re-add one.
        var changed = corpus.Where((_, i) => i % 5 == 0)
            .Select(c => c with { Payload = c.Payload with { Text = c.Payload.Text + " 변경된 문장 추가", Tags = ["changed"] } }).ToList();
        await _indexA.UpsertAsync(incremental, changed, default);
        var deletedIds = corpus.Where((_, i) => i % 7 == 3).Select(c => c.Id).ToList();
        await _indexA.DeleteAsync(incremental, [.. deletedIds, "never-existed"], default);
        var deletedDocument = corpus[^1].Payload.DocumentId;
        await _indexA.DeleteByDocumentAsync(incremental, deletedDocument, default);
        await _indexA.UpsertAsync(incremental, [corpus[3]], default);

        var final = corpus
            .Select(c => changed.FirstOrDefault(x => x.Id == c.Id) ?? c)
            .Where(c => (!deletedIds.Contains(c.Id) || c.Id == corpus[3].Id) && c.Payload.DocumentId != deletedDocument)
            .ToList();
        if (corpus[3].Payload.DocumentId == deletedDocument)
        {
            final.Add(corpus[3]);
        }

        await _indexA.UpsertAsync(rebuilt, final, default);

        AssertSameState(await _indexA.InspectAsync(rebuilt, default), await _indexA.InspectAsync(incremental, default));
        foreach (var query in Queries)
        {
            AssertSameHits(
                await _indexA.SearchAsync(rebuilt, query, 10, null, default),
                await _indexA.SearchAsync(incremental, query, 10, null, default));
        }
    }

    [Fact]
    public async Task Two_processes_writing_one_collection_at_once_keep_its_totals_exact()
    {
        var shared = NewCollection();
        var reference = NewCollection();
        var corpus = KoreanCorpus();
        var half = corpus.Count / 2;

        // Overlapping halves, written in small batches from both "processes" at once, each then
        // deleting a few of the other's chunks: the end state is a function of the final set only.
        var writes = new[] { (_indexA, corpus.Take(half + 5).ToList()), (_indexB, corpus.Skip(half - 5).ToList()) };
        await Task.WhenAll(writes.Select(w => Task.Run(async () =>
        {
            foreach (var batch in w.Item2.Chunk(3))
            {
                await w.Item1.UpsertAsync(shared, batch, default);
            }
        })));
        var deleted = corpus.Where((_, i) => i % 4 == 1).Select(c => c.Id).ToList();
        await Task.WhenAll(
            Task.Run(() => _indexA.DeleteAsync(shared, deleted.Where((_, i) => i % 2 == 0).ToList(), default)),
            Task.Run(() => _indexB.DeleteAsync(shared, deleted, default)));

        await _indexA.UpsertAsync(reference, corpus.Where(c => !deleted.Contains(c.Id)).ToList(), default);
        AssertSameState(await _indexB.InspectAsync(reference, default), await _indexB.InspectAsync(shared, default));
    }

    [Fact]
    public async Task Deleting_a_collection_empties_it_and_a_missing_one_is_no_error()
    {
        var collection = NewCollection();
        await _indexA.UpsertAsync(collection, KoreanCorpus(), default);

        await _indexB.DeleteCollectionAsync(collection, default);
        await _indexB.DeleteCollectionAsync(collection, default);

        Assert.Empty(await _indexA.SearchAsync(collection, "은행 금리", 10, null, default));
        Assert.Equal(0, (await _indexA.InspectAsync(collection, default)).Chunks);
    }

    [Fact]
    public async Task A_collection_built_by_another_analyzer_is_refused_until_it_is_rebuilt()
    {
        var collection = NewCollection();
        var bigramsOnly = new PostgresLexicalIndex(_sourceA, new PostgresSchemaMigrator(_sourceA), new LexicalOptions { WordTerms = false });
        await bigramsOnly.UpsertAsync(collection, KoreanCorpus(), default);

        // The default analyzer adds word terms the stored postings lack: searching or writing would silently miss them.
        var search = await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => _indexB.SearchAsync(collection, "은행 금리", 10, null, default));
        Assert.Contains("ko-bigram/1", search.Message);
        Assert.Contains("rag lexical rebuild", search.Message);
        await Assert.ThrowsAsync<LexicalAnalyzerMismatchException>(() => _indexB.UpsertAsync(collection, KoreanCorpus().Take(1).ToList(), default));
        Assert.NotEmpty(await bigramsOnly.SearchAsync(collection, "은행 금리", 10, null, default));

        // What `rag lexical rebuild` does: drop, then fill again with the current analyzer.
        await _indexB.DeleteCollectionAsync(collection, default);
        await _indexB.UpsertAsync(collection, KoreanCorpus(), default);
        AssertSameHits(await _embedded.SearchAsync(await FillEmbeddedAsync(collection), "은행 금리", 10, null, default),
            await _indexB.SearchAsync(collection, "은행 금리", 10, null, default));
    }

    private async Task<string> FillEmbeddedAsync(string collection)
    {
        await _embedded.UpsertAsync(collection, KoreanCorpus(), default);
        return collection;
    }

    private string NewCollection()
    {
        var name = "lex-" + Guid.NewGuid().ToString("N")[..10];
        _collections.Add(name);
        return name;
    }

    private static void AssertSameHits(IReadOnlyList<VectorSearchHit> expected, IReadOnlyList<VectorSearchHit> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Score, 5);
            // Ids must agree except where two scores are equal to float precision (the tie order is by id
            // on both sides, but the last bit of a sum may differ between C# and SQL).
            if (i + 1 >= expected.Count || Math.Abs(expected[i].Score - expected[i + 1].Score) > 1e-5)
            {
                if (i == 0 || Math.Abs(expected[i].Score - expected[i - 1].Score) > 1e-5)
                {
                    Assert.Equal(expected[i].Id, actual[i].Id);
                    Assert.Equal(expected[i].Payload.Text, actual[i].Payload.Text);
                    Assert.Equal(expected[i].Payload.Tags, actual[i].Payload.Tags);
                }
            }
        }
    }

    private static void AssertSameState(LexicalIndexState expected, LexicalIndexState actual)
    {
        Assert.Equal(expected.Chunks, actual.Chunks);
        Assert.Equal(expected.TotalLength, actual.TotalLength);
        Assert.Equal(expected.Postings.Keys.Order(StringComparer.Ordinal), actual.Postings.Keys.Order(StringComparer.Ordinal));
        foreach (var (term, postings) in expected.Postings)
        {
            Assert.Equal(postings.OrderBy(p => p.Id, StringComparer.Ordinal), actual.Postings[term].OrderBy(p => p.Id, StringComparer.Ordinal));
        }
    }

    /// <summary>Paragraphs of samples/korean and of the mini-BEIR fixture, with tags and metadata to filter on.</summary>
    private static List<LexicalChunk> KoreanCorpus()
    {
        var root = PostgresServer.RepositoryRoot;
        var documents = new List<(string Id, string? Title, string Text, string Source)>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "samples", "korean"), "*.md").Order(StringComparer.Ordinal))
        {
            documents.Add((Path.GetFileNameWithoutExtension(file), null, File.ReadAllText(file), "samples"));
        }

        foreach (var line in File.ReadLines(Path.Combine(root, "tests", "RagPlatform.EndToEnd.Tests", "Fixtures", "mini-beir", "corpus.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            documents.Add(("beir-" + json.RootElement.GetProperty("_id").GetString(),
                json.RootElement.GetProperty("title").GetString(), json.RootElement.GetProperty("text").GetString()!, "beir"));
        }

        var chunks = new List<LexicalChunk>();
        foreach (var (id, title, text, source) in documents)
        {
            var paragraphs = text.Split(["\n\n", "\r\n\r\n"], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < paragraphs.Length; i++)
            {
                var n = chunks.Count;
                var tags = new List<string> { "korean", n % 2 == 0 ? "even" : "odd" };
                var metadata = new Dictionary<string, JsonElement>
                {
                    ["source"] = JsonSerializer.SerializeToElement(source),
                    ["year"] = JsonSerializer.SerializeToElement(n % 3 == 0 ? 2024 : 2023),
                };
                chunks.Add(new LexicalChunk($"{id}#{i}", new PointPayload(id, title, paragraphs[i], tags, metadata, $"hash-{n}", i)));
            }
        }

        return chunks;
    }
}
