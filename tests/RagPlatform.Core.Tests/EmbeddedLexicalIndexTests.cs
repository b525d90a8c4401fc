using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Tests;

public sealed class EmbeddedLexicalIndexTests : IDisposable
{
    private const string Collection = "docs";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-lexical-" + Guid.NewGuid().ToString("N"));
    private readonly List<EmbeddedLexicalIndex> _opened = [];

    private static readonly string[] Queries = ["은행 금리", "축구 경기", "건강검진 금식", "예금 이율 3.5", "대출", "없는단어"];

    public void Dispose()
    {
        _opened.ForEach(i => i.Dispose());
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Scores_follow_the_BM25_formula()
    {
        // Bigrams only, so each two-syllable word below is exactly one term.
        var index = Open(options: new LexicalOptions { WordTerms = false });
        await index.UpsertAsync(Collection, [Chunk("a", "d1", "금리 금리 대출"), Chunk("b", "d2", "금리 예금 상품 안내"), Chunk("c", "d3", "축구")], default);

        var hits = await index.SearchAsync(Collection, "금리", 10, null, default);

        // N = 3 chunks, lengths 3, 4, 1 terms (avg 8/3); "금리" occurs in a (tf 2) and b (tf 1).
        const double k1 = 1.2, b = 0.75, avg = 8.0 / 3;
        var idf = Math.Log(1 + ((3 - 2 + 0.5) / (2 + 0.5)));
        double Bm25(int tf, int length) => idf * tf * (k1 + 1) / (tf + (k1 * (1 - b + (b * length / avg))));
        Assert.Equal(["a", "b"], hits.Select(h => h.Id));
        Assert.Equal((float)Bm25(2, 3), hits[0].Score, 5);
        Assert.Equal((float)Bm25(1, 4), hits[1].Score, 5);
        Assert.Equal("d1", hits[0].Payload.DocumentId);
    }

    [Theory]
    [InlineData(1.0, 4.0 / 3)] // the default: said twice weighs 1⅓
    [InlineData(0.0, 1.0)] // every term once
    [InlineData(1_000.0, 2_002.0 / 1_002)] // about its count, as before k3
    public async Task A_term_the_query_repeats_weighs_by_BM25s_query_term_saturation(double k3, double twice)
    {
        var index = Open(options: new LexicalOptions { WordTerms = false, K3 = k3 });
        await index.UpsertAsync(Collection, [Chunk("a", "d1", "금리 금리 대출"), Chunk("b", "d2", "금리 예금 상품 안내"), Chunk("c", "d3", "축구")], default);

        var once = await index.SearchAsync(Collection, "금리 대출", 10, null, default);
        var repeated = await index.SearchAsync(Collection, "금리 대출 금리", 10, null, default);

        // Chunk b holds only "금리": its score is that term's alone, scaled by the repeat's weight (k3 + 1)·2 / (k3 + 2).
        Assert.Equal(["a", "b"], once.Select(h => h.Id));
        Assert.Equal(once[1].Score * twice, repeated.Single(h => h.Id == "b").Score, 4);
        Assert.Equal(2.0 * (k3 + 1) / (k3 + 2), LexicalAnalysis.QueryTermWeight(2, k3), 12);
        Assert.Equal(1.0, LexicalAnalysis.QueryTermWeight(1, k3));
    }

    [Fact]
    public async Task A_rare_term_outweighs_a_common_one()
    {
        var index = Open();
        await index.UpsertAsync(Collection,
            [Chunk("a", "d1", "은행 금리 인상"), Chunk("b", "d2", "은행 예금 안내"), Chunk("c", "d3", "은행 지점 위치"), Chunk("d", "d4", "환율 전망")], default);

        var hits = await index.SearchAsync(Collection, "은행 금리", 10, null, default);

        Assert.Equal("a", hits[0].Id);
        Assert.Equal(3, hits.Count);
    }

    [Fact]
    public async Task Filters_apply_VectorFilter_semantics_to_the_stored_payload()
    {
        var index = Open();
        await index.UpsertAsync(Collection,
        [
            Chunk("a", "d1", "은행 금리", ["finance"], new() { ["year"] = 2024 }),
            Chunk("b", "d2", "은행 금리 인상", ["finance", "loan"], new() { ["year"] = 2023 }),
            Chunk("c", "d3", "은행 금리 인하", ["news"], new() { ["year"] = 2024.0 }),
        ], default);

        var byTag = await index.SearchAsync(Collection, "금리", 10, new VectorFilter(["finance"], PointPayload.NoMetadata), default);
        var byYear = await index.SearchAsync(Collection, "금리", 10, new VectorFilter([], Metadata(new() { ["year"] = 2024 })), default);
        var both = await index.SearchAsync(Collection, "금리", 10, new VectorFilter(["loan"], Metadata(new() { ["year"] = 2023 })), default);

        Assert.Equal(["a", "b"], byTag.Select(h => h.Id).Order());
        Assert.Equal(["a", "c"], byYear.Select(h => h.Id).Order());
        Assert.Equal(["b"], both.Select(h => h.Id));
    }

    [Fact]
    public async Task TopK_keeps_the_best_and_breaks_ties_by_id()
    {
        var index = Open();
        await index.UpsertAsync(Collection, [Chunk("c", "d", "금리"), Chunk("a", "d", "금리"), Chunk("b", "d", "금리"), Chunk("z", "d", "금리 금리")], default);

        var hits = await index.SearchAsync(Collection, "금리", 3, null, default);

        Assert.Equal(["z", "a", "b"], hits.Select(h => h.Id));
    }

    [Fact]
    public async Task The_pruned_top_k_equals_scoring_every_posting_across_windows_blocks_ties_filters_and_churn()
    {
        // Thousands of chunks over a small, skewed vocabulary: long postings lists of many blocks, several slot
        // windows, chunks of equal score (ties broken by id), and removed postings left behind by rewrites.
        var index = Open();
        var random = new Random(7);
        string[] words = ["은행", "금리", "대출", "축구", "경기", "예금", "건강", "금식", "이율", "고객", "부담", "홈팀", "정부", "시장", "환율", "물가"];
        LexicalChunk Make(string id)
        {
            var text = string.Join(' ', Enumerable.Range(0, random.Next(1, 12)).Select(_ => words[(int)(words.Length * Math.Pow(random.NextDouble(), 2))]));
            return Chunk(id, $"d{random.Next(400)}", text, random.Next(3) == 0 ? ["even"] : []);
        }

        var final = await ChurnAsync(index, random, rounds: 3, upserts: 6000, deletes: 800, ids: 24000, Make);
        var state = index.Inspect(Collection);
        var lengths = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var postings in state.Postings.Values)
        {
            foreach (var (id, tf) in postings)
            {
                lengths[id] = lengths.GetValueOrDefault(id) + tf;
            }
        }

        Assert.True(state.Chunks > 2 * 4096, $"{state.Chunks} chunks: fewer than the search's windows of 4,096 slots span");
        string[] queries = ["은행 금리", "금리 금리 대출", "은행 은행 은행", "홈팀 물가 환율 축구 경기", "정부 시장 은행 금리 대출 축구 경기 예금", "물가"];
        foreach (var query in queries)
        {
            foreach (var filtered in (bool[])[false, true])
            {
                var filter = filtered ? new VectorFilter(["even"], PointPayload.NoMetadata) : null;
                foreach (var topK in (int[])[1, 10, 50, 400])
                {
                    var hits = await index.SearchAsync(Collection, query, topK, filter, default);

                    var expected = Exhaustive(state, lengths, new LexicalOptions().CreateTokenizer().Tokenize(query), 1.2, 0.75)
                        .Where(h => !filtered || final[h.Id].Payload.Tags.Contains("even"))
                        .Take(topK)
                        .ToList();
                    Assert.Equal(expected.Select(h => (h.Id, (float)h.Score)), hits.Select(h => (h.Id, h.Score)));
                }
            }
        }
    }

    [Fact]
    public async Task Incremental_adds_changes_and_deletes_equal_a_rebuild_from_scratch()
    {
        var incremental = Open("incremental");
        await incremental.UpsertAsync(Collection, Corpus(), default);
        // Change: d2's chunk text changes (a new chunk id, the old one vanishes) and d1's payload is rewritten in place.
        await incremental.UpsertAsync(Collection, [Chunk("d2#2", "d2", "축구 경기는 비로 연기되었다 다음 경기는 일요일")], default);
        await incremental.DeleteAsync(Collection, ["d2#1"], default);
        await incremental.UpsertAsync(Collection, [Chunk("d1#1", "d1", "은행의 주택담보대출 금리가 내렸다", ["finance", "changed"])], default);
        // Delete: a whole document, and an id that does not exist.
        await incremental.DeleteByDocumentAsync(Collection, "d3", default);
        await incremental.DeleteAsync(Collection, ["nope"], default);
        // A redelivered batch changes nothing.
        await incremental.UpsertAsync(Collection, [Chunk("d2#2", "d2", "축구 경기는 비로 연기되었다 다음 경기는 일요일")], default);

        var rebuilt = Open("rebuilt");
        await rebuilt.UpsertAsync(Collection,
        [
            Chunk("d1#1", "d1", "은행의 주택담보대출 금리가 내렸다", ["finance", "changed"]),
            Chunk("d1#2", "d1", "변동금리 대출 고객은 이자 부담이 커진다"),
            Chunk("d2#2", "d2", "축구 경기는 비로 연기되었다 다음 경기는 일요일"),
            Chunk("d4#1", "d4", "정기예금 금리는 연 3.5%이다 중도해지 이율"),
        ], default);

        await AssertSameAsync(rebuilt, incremental);
        Assert.Equal(4, incremental.Inspect(Collection).Chunks);
    }

    [Fact]
    public async Task Heavy_churn_that_compacts_postings_and_renumbers_slots_still_equals_a_rebuild()
    {
        // Thousands of rewrites and deletes: enough removed postings to compact term lists and enough empty
        // slots to renumber the whole collection, several times over.
        var incremental = Open("incremental");
        var random = new Random(42);
        string[] words = ["은행", "금리", "대출", "축구", "경기", "예금", "건강검진", "금식", "이율", "고객", "부담", "홈팀"];
        var final = await ChurnAsync(incremental, random, rounds: 12, upserts: 400, deletes: 150, ids: 600, id =>
            Chunk(id, $"d{random.Next(50)}", string.Join(' ', Enumerable.Range(0, random.Next(1, 8)).Select(_ => words[random.Next(words.Length)] + "의"))));

        var rebuilt = Open("rebuilt");
        await rebuilt.UpsertAsync(Collection, [.. final.Values.OrderBy(c => c.Id, StringComparer.Ordinal)], default);
        await AssertSameAsync(rebuilt, incremental);
        Assert.Equal(final.Count, incremental.Inspect(Collection).Chunks);
    }

    [Fact]
    public async Task Deleting_and_replacing_titled_chunks_of_sections_leaves_the_index_of_the_survivors_also_after_reopening()
    {
        // The index keeps no per-chunk term lists: a removal tokenises the stored payload again. Titles and heading
        // paths are indexed too, so they must be found again, or document frequencies and the length total drift.
        var incremental = Open("incremental");
        await incremental.UpsertAsync(Collection,
        [
            Titled("d1#1", "d1", "금리 안내", "대출 > 변동금리", "은행의 주택담보대출 금리가 올랐다"),
            Titled("d1#2", "d1", "금리 안내", "대출 > 고정금리", "고정금리 대출 고객은 이자 부담이 같다"),
            Titled("d2#1", "d2", "축구 소식", null, "어제 열린 축구 경기에서 홈팀이 이겼다"),
            Titled("d3#1", "d3", null, "건강 > 검진", "건강검진 전날에는 금식해야 해요"),
            Titled("d4#1", "d4", "예금 금리", "정기예금", "정기예금 금리는 연 3.5%이다 중도해지 이율"),
        ], default);
        // Replace in place with another title and section, delete one chunk and one whole document.
        await incremental.UpsertAsync(Collection, [Titled("d1#1", "d1", "대출 금리 변경", "대출 > 주택담보대출", "은행의 주택담보대출 금리가 내렸다")], default);
        await incremental.DeleteAsync(Collection, ["d1#2"], default);
        await incremental.DeleteByDocumentAsync(Collection, "d3", default);

        var survivors = Open("survivors");
        await survivors.UpsertAsync(Collection,
        [
            Titled("d1#1", "d1", "대출 금리 변경", "대출 > 주택담보대출", "은행의 주택담보대출 금리가 내렸다"),
            Titled("d2#1", "d2", "축구 소식", null, "어제 열린 축구 경기에서 홈팀이 이겼다"),
            Titled("d4#1", "d4", "예금 금리", "정기예금", "정기예금 금리는 연 3.5%이다 중도해지 이율"),
        ], default);

        await AssertSameAsync(survivors, incremental);
        Assert.DoesNotContain("검진", incremental.Inspect(Collection).Postings.Keys);
        Assert.DoesNotContain("고정", incremental.Inspect(Collection).Postings.Keys);

        incremental.Dispose();
        _opened.Remove(incremental);
        var reopened = Open("incremental");
        await AssertSameAsync(survivors, reopened);

        // Deleting the rest after reopening empties the statistics exactly.
        await reopened.DeleteAsync(Collection, ["d1#1", "d2#1", "d4#1"], default);
        var empty = reopened.Inspect(Collection);
        Assert.Equal(0, empty.Chunks);
        Assert.Equal(0, empty.TotalLength);
        Assert.Empty(empty.Postings);
    }

    [Fact]
    public async Task Renumbering_titled_chunks_of_sections_equals_an_index_of_the_survivors_also_after_reopening()
    {
        // More than 1,024 removed chunks and more removed than live: the slot table is renumbered (several times),
        // and the postings lists compacted, with titles and heading paths among the terms.
        var incremental = Open("incremental");
        var random = new Random(7);
        string[] words = ["은행", "금리", "대출", "축구", "경기", "예금", "건강검진", "금식", "이율", "고객", "부담", "홈팀"];
        string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => words[random.Next(words.Length)] + "의"));
        var final = await ChurnAsync(incremental, random, rounds: 8, upserts: 500, deletes: 200, ids: 300, id =>
            Titled(id, $"d{random.Next(40)}", random.Next(3) == 0 ? null : Words(2),
                random.Next(3) == 0 ? null : Words(1) + " > " + Words(1), Words(random.Next(1, 8))));

        var survivors = Open("survivors");
        await survivors.UpsertAsync(Collection, [.. final.Values.OrderBy(c => c.Id, StringComparer.Ordinal)], default);
        await AssertSameAsync(survivors, incremental);

        incremental.Dispose();
        _opened.Remove(incremental);
        await AssertSameAsync(survivors, Open("incremental"));
    }

    [Fact]
    public async Task Deletes_and_rewrites_of_the_same_chunk_racing_each_other_leave_the_index_of_the_survivors()
    {
        // A delete counts the chunk's terms before it takes the write lock; a rewrite in between must make it count
        // again. The two versions have the same number of terms and none in common, so terms counted from the
        // wrong version would not fail the length check but would leave other postings behind. (Whether the race
        // is hit depends on scheduling; the next test takes the same path every time.)
        var index = Open("racing");
        var others = new List<LexicalChunk> { Chunk("d2#1", "d2", "어제 열린 축구 경기에서 홈팀이 이겼다"), Chunk("d4#1", "d4", "정기예금 금리는 연 3.5%이다") };
        await index.UpsertAsync(Collection, others, default);
        LexicalChunk[] versions = [Chunk("x", "d1", "은행 대출 금리 인상"), Chunk("x", "d1", "건강 검진 전날 금식")];
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 400; i++)
            {
                await index.UpsertAsync(Collection, [versions[i % 2]], default);
            }
        });
        var deleter = Task.Run(async () =>
        {
            for (var i = 0; i < 400; i++)
            {
                await index.DeleteAsync(Collection, ["x"], default);
            }
        });
        await Task.WhenAll(writer, deleter);
        await index.UpsertAsync(Collection, [versions[0]], default);

        var survivors = Open("survivors");
        await survivors.UpsertAsync(Collection, [.. others, versions[0]], default);
        await AssertSameAsync(survivors, index);
    }

    [Fact]
    public async Task A_chunk_rewritten_after_its_terms_were_counted_is_counted_again_when_removed()
    {
        // A write counts the held versions' terms before the write lock. In one batch that writes the id twice,
        // the second write removes the batch's first version, not the counted one: it must count that version.
        var index = Open("rewritten");
        await index.UpsertAsync(Collection, [Chunk("x", "d1", "은행 대출 금리 인상"), Chunk("y", "d2", "어제 열린 축구 경기")], default);
        await index.UpsertAsync(Collection, [Chunk("x", "d1", "건강 검진 전날 금식"), Chunk("x", "d1", "정기 예금 연장 안내")], default);

        var survivors = Open("survivors");
        await survivors.UpsertAsync(Collection, [Chunk("x", "d1", "정기 예금 연장 안내"), Chunk("y", "d2", "어제 열린 축구 경기")], default);
        await AssertSameAsync(survivors, index);
    }

    [Fact]
    public async Task The_index_survives_reopening_and_compaction()
    {
        var options = new LexicalOptions { CompactAfterLogBytes = 4096 };
        var first = Open("persisted", options);
        var reference = Open("reference");
        for (var round = 0; round < 20; round++)
        {
            // Enough writes to fold the log into a snapshot several times.
            foreach (var index in new[] { first, reference })
            {
                await index.UpsertAsync(Collection, Corpus().Select(c => c with { Id = c.Id + "@" + round }).ToList(), default);
                await index.DeleteAsync(Collection, [$"d1#1@{round}"], default);
            }
        }

        Assert.True(File.Exists(Path.Combine(_directory, "persisted", Collection, RagPlatform.Sdk.Storage.Journal.SnapshotFileName)));
        first.Dispose();
        _opened.Remove(first);

        var reopened = Open("persisted", options);

        await AssertSameAsync(reference, reopened);
    }

    [Fact]
    public async Task An_index_written_in_the_format_before_the_journal_opens_and_is_rewritten_as_a_journal()
    {
        var folder = Path.Combine(_directory, "legacy");
        CopyDirectory(Path.Combine(AppContext.BaseDirectory, "fixtures", "legacy-stores", "lexical"), folder);

        var index = Open("legacy");
        Assert.Equal(3, index.Inspect(Collection).Chunks);
        Assert.Equal(["a"], (await index.SearchAsync(Collection, "은행", 10, null, default)).Select(h => h.Id));
        Assert.Equal(["d"], (await index.SearchAsync(Collection, "정기예금", 10, null, default)).Select(h => h.Id));
        Assert.Empty(await index.SearchAsync(Collection, "축구", 10, null, default));
        var files = Directory.GetFiles(Path.Combine(folder, Collection)).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal([RagPlatform.Sdk.Storage.Journal.LogFileName, RagPlatform.Sdk.Storage.Journal.SnapshotFileName], files);

        await index.DeleteAsync(Collection, ["a"], default);
        index.Dispose();
        _opened.Remove(index);
        var reopened = Open("legacy");
        Assert.Equal(2, reopened.Inspect(Collection).Chunks);
        Assert.Equal(["c"], (await reopened.SearchAsync(Collection, "건강검진", 10, null, default)).Select(h => h.Id));
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    [Fact]
    public async Task A_torn_last_write_loses_only_that_batch()
    {
        var index = Open("torn");
        await index.UpsertAsync(Collection, Corpus(), default);
        await index.UpsertAsync(Collection, [Chunk("late", "d9", "마지막으로 추가된 환율 문서")], default);
        index.Dispose();
        _opened.Remove(index);
        var log = Path.Combine(_directory, "torn", Collection, RagPlatform.Sdk.Storage.Journal.LogFileName);
        using (var stream = new FileStream(log, FileMode.Open))
        {
            // A crash in the middle of the last append.
            stream.SetLength(stream.Length - 7);
        }

        var reopened = Open("torn");
        Assert.Empty(await reopened.SearchAsync(Collection, "환율", 10, null, default));
        Assert.Equal(Corpus().Count, reopened.Inspect(Collection).Chunks);

        await reopened.UpsertAsync(Collection, [Chunk("later", "d9", "다시 추가된 환율 문서")], default);
        reopened.Dispose();
        _opened.Remove(reopened);
        var again = Open("torn");
        Assert.Equal(["later"], (await again.SearchAsync(Collection, "환율", 10, null, default)).Select(h => h.Id));
    }

    [Fact]
    public async Task Dropping_a_collection_removes_its_files_and_terms()
    {
        var index = Open();
        await index.UpsertAsync(Collection, Corpus(), default);

        await index.DeleteCollectionAsync(Collection, default);

        Assert.False(Directory.Exists(Path.Combine(_directory, "default", Collection)));
        Assert.Empty(await index.SearchAsync(Collection, "은행 금리", 10, null, default));
        await index.UpsertAsync(Collection, [Chunk("new", "d", "새 컬렉션의 금리")], default);
        Assert.Equal(["new"], (await index.SearchAsync(Collection, "금리", 10, null, default)).Select(h => h.Id));
    }

    [Fact]
    public async Task Searches_run_safely_while_documents_are_written()
    {
        var index = Open();
        await index.UpsertAsync(Collection, Corpus(), default);
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var searches = 0;
            while (!stop.IsCancellationRequested || searches == 0)
            {
                var hits = await index.SearchAsync(Collection, "은행 금리 경기", 5, null, default);
                Assert.NotEmpty(hits);
                searches++;
            }
        })).ToList();

        for (var i = 0; i < 200; i++)
        {
            await index.UpsertAsync(Collection, [Chunk($"w{i}", $"w{i % 10}", $"은행 금리 {i}번째 소식")], default);
            await index.DeleteAsync(Collection, [$"w{i - 5}"], default);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
    }

    private static async Task AssertSameAsync(EmbeddedLexicalIndex expected, EmbeddedLexicalIndex actual)
    {
        var want = expected.Inspect(Collection);
        var got = actual.Inspect(Collection);
        Assert.Equal(want.Chunks, got.Chunks);
        Assert.Equal(want.TotalLength, got.TotalLength);
        Assert.Equal(want.Postings.Keys, got.Postings.Keys);
        foreach (var (term, postings) in want.Postings)
        {
            Assert.Equal(postings, got.Postings[term]);
        }

        foreach (var query in Queries)
        {
            var a = await expected.SearchAsync(Collection, query, 50, null, default);
            var b = await actual.SearchAsync(Collection, query, 50, null, default);
            Assert.Equal(a.Select(h => (h.Id, h.Score, h.Payload.DocumentId, h.Payload.Text, string.Join(',', h.Payload.Tags))),
                b.Select(h => (h.Id, h.Score, h.Payload.DocumentId, h.Payload.Text, string.Join(',', h.Payload.Tags))));
        }
    }

    /// <summary>BM25 of every chunk that holds a query term, best first (ties by id), summed in query order as the
    /// index sums it: the ranking the pruned search must reproduce exactly.</summary>
    private static List<(string Id, double Score)> Exhaustive(
        LexicalIndexState state, Dictionary<string, int> lengths, List<string> terms, double k1, double b)
    {
        var average = (double)state.TotalLength / state.Chunks;
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var group in terms.GroupBy(t => t).Where(g => state.Postings.ContainsKey(g.Key)))
        {
            var postings = state.Postings[group.Key];
            var idf = Math.Log(1 + ((state.Chunks - postings.Count + 0.5) / (postings.Count + 0.5)));
            const double k3 = LexicalAnalysis.DefaultK3; // Okapi's query-term saturation of a repeated term
            var weight = ((k3 + 1) * group.Count() / (k3 + group.Count())) * idf * (k1 + 1);
            foreach (var (id, tf) in postings)
            {
                scores[id] = scores.GetValueOrDefault(id) + (weight * tf / (tf + (k1 * (1 - b + (b * lengths[id] / average)))));
            }
        }

        return [.. scores.Select(s => (s.Key, s.Value)).OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal)];
    }

    /// <summary>Rounds of random upserts (ids drawn from <paramref name="ids"/>, so many are rewrites) each followed by
    /// random deletes; returns the chunks that survive, by id.</summary>
    private static async Task<Dictionary<string, LexicalChunk>> ChurnAsync(
        EmbeddedLexicalIndex index, Random random, int rounds, int upserts, int deletes, int ids, Func<string, LexicalChunk> chunkFor)
    {
        var final = new Dictionary<string, LexicalChunk>(StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            var batch = new List<LexicalChunk>();
            for (var i = 0; i < upserts; i++)
            {
                var chunk = chunkFor($"c{random.Next(ids)}");
                batch.Add(chunk);
                final[chunk.Id] = chunk;
            }

            await index.UpsertAsync(Collection, batch, default);
            var deleted = Enumerable.Range(0, deletes).Select(_ => $"c{random.Next(ids)}").ToList();
            await index.DeleteAsync(Collection, deleted, default);
            deleted.ForEach(id => final.Remove(id));
        }

        return final;
    }

    private EmbeddedLexicalIndex Open(string name = "default", LexicalOptions? options = null)
    {
        var index = new EmbeddedLexicalIndex(Path.Combine(_directory, name), options ?? new LexicalOptions(), NullLogger<EmbeddedLexicalIndex>.Instance);
        _opened.Add(index);
        return index;
    }

    private static List<LexicalChunk> Corpus() =>
    [
        Chunk("d1#1", "d1", "은행의 주택담보대출 금리가 올랐다", ["finance"]),
        Chunk("d1#2", "d1", "변동금리 대출 고객은 이자 부담이 커진다"),
        Chunk("d2#1", "d2", "어제 열린 축구 경기에서 홈팀이 이겼다"),
        Chunk("d3#1", "d3", "건강검진 전날에는 금식해야 해요"),
        Chunk("d4#1", "d4", "정기예금 금리는 연 3.5%이다 중도해지 이율"),
    ];

    private static LexicalChunk Chunk(string id, string documentId, string text, string[]? tags = null, Dictionary<string, object>? metadata = null) =>
        new(id, new PointPayload(documentId, null, text, tags ?? [], Metadata(metadata ?? []), "hash-" + id, 0));

    private static LexicalChunk Titled(string id, string documentId, string? title, string? section, string text) =>
        new(id, new PointPayload(documentId, title, text, [], new ChunkLocation(section, null, null).AddTo(PointPayload.NoMetadata), "hash-" + id, 0));

    private static Dictionary<string, JsonElement> Metadata(Dictionary<string, object> values) =>
        values.ToDictionary(v => v.Key, v => JsonSerializer.SerializeToElement(v.Value));
}
