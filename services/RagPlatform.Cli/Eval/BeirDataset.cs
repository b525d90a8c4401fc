using System.Globalization;
using System.Text;
using System.Text.Json;
using RagPlatform.Cli.Ingest;

namespace RagPlatform.Cli.Eval;

/// <summary>A query that has relevance judgements, with the documents judged relevant (score &gt; 0).</summary>
public sealed record BeirQuery(string Id, string Text, IReadOnlySet<string> Relevant);

/// <summary>
/// A retrieval benchmark in the BEIR layout: <c>corpus.jsonl</c> (<c>{_id, title, text}</c>), <c>queries.jsonl</c>
/// (<c>{_id, text}</c>) and <c>qrels/&lt;split&gt;.tsv</c> (query-id, corpus-id, score; a header line). Only queries
/// with at least one relevant document are evaluated: a query without judgements has no right answer.
/// </summary>
public sealed class BeirDataset
{
    private BeirDataset(string directory, IReadOnlyList<BeirQuery> queries, int unjudgedQueries)
    {
        Directory = directory;
        Queries = queries;
        UnjudgedQueries = unjudgedQueries;
    }

    public string Directory { get; }

    public string CorpusPath => Path.Combine(Directory, "corpus.jsonl");

    /// <summary>The queries to evaluate, in the order of queries.jsonl.</summary>
    public IReadOnlyList<BeirQuery> Queries { get; }

    /// <summary>Queries in queries.jsonl without any relevant document in the qrels (left out).</summary>
    public int UnjudgedQueries { get; }

    public static BeirDataset Load(string directory, string split = "test")
    {
        var corpus = Path.Combine(directory, "corpus.jsonl");
        var queries = Path.Combine(directory, "queries.jsonl");
        var qrels = Path.Combine(directory, "qrels", split + ".tsv");
        foreach (var required in new[] { corpus, queries, qrels })
        {
            if (!File.Exists(required))
            {
                throw new UsageException($"{directory} is not a BEIR dataset: {required} is missing (expected corpus.jsonl, queries.jsonl and qrels/{split}.tsv).");
            }
        }

        Dictionary<string, HashSet<string>> relevant;
        using (var reader = new StreamReader(qrels, Encoding.UTF8))
        {
            relevant = ReadQrels(reader, qrels);
        }

        var evaluated = new List<BeirQuery>();
        var unjudged = 0;
        using (var reader = new StreamReader(queries, Encoding.UTF8))
        {
            foreach (var (id, text) in ReadQueries(reader, queries))
            {
                if (relevant.TryGetValue(id, out var documents) && documents.Count > 0)
                {
                    evaluated.Add(new BeirQuery(id, text, documents));
                }
                else
                {
                    unjudged++;
                }
            }
        }

        return new BeirDataset(Path.GetFullPath(directory), evaluated, unjudged);
    }

    /// <summary>The corpus as documents to ingest, read lazily.</summary>
    public IEnumerable<SourceItem> ReadCorpus()
    {
        using var reader = new StreamReader(CorpusPath, Encoding.UTF8);
        foreach (var item in JsonLinesDocuments.Read(reader, "corpus.jsonl"))
        {
            yield return item;
        }
    }

    /// <summary>
    /// Relevant documents per query. Columns are tab-separated (corpus ids may contain spaces); the first line is
    /// skipped when it is a header, i.e. when its score is not a number. Score 0 marks a judged non-relevant document.
    /// </summary>
    public static Dictionary<string, HashSet<string>> ReadQrels(TextReader reader, string origin)
    {
        var relevant = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var columns = line.Split('\t');
            var scoreText = columns.Length >= 3 ? columns[^1].Trim() : null;
            var isNumber = double.TryParse(scoreText, NumberStyles.Float, CultureInfo.InvariantCulture, out var score);
            if (number == 1 && !isNumber)
            {
                continue;
            }

            if (columns.Length < 3 || !isNumber)
            {
                throw new InvalidDataException($"{origin}:{number}: expected query-id<TAB>corpus-id<TAB>score.");
            }

            // TREC-style qrels have four columns (query, iteration, document, score): the document is second to last.
            var query = columns[0].Trim();
            var document = columns[^2].Trim();
            if (!relevant.TryGetValue(query, out var documents))
            {
                relevant[query] = documents = new HashSet<string>(StringComparer.Ordinal);
            }

            if (score > 0)
            {
                documents.Add(document);
            }
        }

        return relevant;
    }

    public static IEnumerable<(string Id, string Text)> ReadQueries(TextReader reader, string origin)
    {
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string? id, text;
            try
            {
                using var json = JsonDocument.Parse(line);
                id = Scalar(json.RootElement, "_id") ?? Scalar(json.RootElement, "id");
                text = Scalar(json.RootElement, "text");
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                throw new InvalidDataException($"{origin}:{number}: {ex.Message}", ex);
            }

            if (string.IsNullOrEmpty(id) || string.IsNullOrWhiteSpace(text))
            {
                throw new InvalidDataException($"{origin}:{number}: a query needs \"_id\" and \"text\".");
            }

            yield return (id, text);
        }
    }

    /// <summary>A valid collection name from the dataset folder's name: lower case, [a-z0-9_-], at most 63 characters.</summary>
    public static string CollectionNameFor(string directory)
    {
        var name = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))).Name.ToLowerInvariant();
        var sanitised = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            sanitised.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' ? c : '-');
        }

        var result = sanitised.ToString().TrimStart('-', '_');
        result = result.Length > 63 ? result[..63] : result;
        return result.Length == 0 ? "beir" : result;
    }

    private static string? Scalar(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}
