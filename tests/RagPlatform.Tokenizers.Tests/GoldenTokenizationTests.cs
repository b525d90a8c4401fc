using System.Text.Json;

namespace RagPlatform.Tokenizers.Tests;

/// <summary>Token ids equal transformers.js's (committed goldens made from the same tokenizer.json files).</summary>
public sealed class GoldenTokenizationTests
{
    public static TheoryData<string> Fixtures => new() { "kr-sbert-v40k", "all-minilm-l6-v2", "unigram-ko-en" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_text_encodes_to_the_ids_and_type_ids_transformers_js_gives(string fixture)
    {
        var tokenizer = FixtureFiles.Tokenizer(fixture);
        var mismatches = new List<string>();
        var goldens = FixtureFiles.Goldens(fixture);
        foreach (var (text, ids, typeIds) in goldens)
        {
            var encoded = tokenizer.Encode(text, int.MaxValue);
            if (!encoded.InputIds.SequenceEqual(ids) || !encoded.TypeIds.SequenceEqual(typeIds))
            {
                mismatches.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(' ', ids)}], got [{string.Join(' ', encoded.InputIds)}]");
            }
        }

        Assert.Equal(59, goldens.Count);
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Counting_tokens_agrees_with_encoding(string fixture)
    {
        var tokenizer = FixtureFiles.Tokenizer(fixture);
        foreach (var (text, ids, _) in FixtureFiles.Goldens(fixture))
        {
            Assert.Equal(ids.Length, tokenizer.CountTokens(text));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Encoding_into_caller_buffers_gives_the_same_ids(string fixture)
    {
        var tokenizer = FixtureFiles.Tokenizer(fixture);
        var ids = new long[1024];
        var typeIds = new long[1024];
        foreach (var (text, expected, _) in FixtureFiles.Goldens(fixture))
        {
            int length = tokenizer.EncodeInto(text, 1024, ids, typeIds);
            Assert.Equal(expected.Select(id => (long)id), ids.Take(length));
        }
    }

    [Fact]
    public void One_tokenizer_shared_by_many_threads_gives_each_the_serial_result()
    {
        var tokenizer = FixtureFiles.Tokenizer("unigram-ko-en");
        var wordPiece = FixtureFiles.Tokenizer("kr-sbert-v40k");
        var texts = FixtureFiles.Goldens("unigram-ko-en").Select(g => g.Text).ToArray();
        var serial = texts.Select(t => (tokenizer.Encode(t, 512).InputIds, wordPiece.Encode(t, 512).InputIds)).ToArray();
        Parallel.For(0, texts.Length * 20, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % texts.Length;
            Assert.Equal(serial[k].Item1, tokenizer.Encode(texts[k], 512).InputIds);
            Assert.Equal(serial[k].Item2, wordPiece.Encode(texts[k], 512).InputIds);
        });
    }
}

internal static class FixtureFiles
{
    private static readonly Dictionary<string, HuggingFaceTokenizer> Loaded = [];

    public static string Folder(string fixture) => Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);

    public static HuggingFaceTokenizer Tokenizer(string fixture)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(fixture, out var tokenizer))
            {
                tokenizer = TokenizerFile.LoadHuggingFace(Folder(fixture));
                Loaded[fixture] = tokenizer;
            }

            return tokenizer;
        }
    }

    public static List<(string Text, int[] Ids, int[] TypeIds)> Goldens(string fixture) =>
        File.ReadLines(Path.Combine(Folder(fixture), "golden.jsonl")).Where(l => l.Length > 0).Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return (root.GetProperty("text").GetString()!,
                root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("type_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }).ToList();
}
