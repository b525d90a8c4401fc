using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Lexical;
using RagPlatform.Core.Text;

namespace RagPlatform.Query;

/// <summary>
/// Packs search results into an LLM-ready context (seed 002 §7.2): the best documents in score order, at
/// most <c>maxDocs</c> of them and <c>maxChars</c> characters in all. When the documents do not fit, the
/// budget is shared so that every selected document gets a fair part (short ones stay whole), and a
/// document longer than its part keeps its sentences most relevant to the query, in their original order,
/// with "…" where sentences were left out — rather than the seed's "first two sentences", which drops the
/// answer whenever it sits later in the chunk.
/// </summary>
public sealed class ContextService(SearchService search, IOptions<RagPlatformOptions> options)
{
    private const string Gap = " … ";
    private const string PassageSeparator = "\n";
    private const string SourceSeparator = "\n\n";
    private readonly QueryOptions _options = options.Value.Query;

    public async Task<ContextResponse> BuildAsync(string collection, ContextRequest? request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (maxChars, maxDocs, candidates) = Validate(request);
        var found = await search.SearchAsync(
            collection, new SearchRequest(request!.Query, candidates, request.Mode, request.Tags, request.Filter), cancellationToken);

        var documents = found.Results
            .GroupBy(r => r.DocumentId, StringComparer.Ordinal)
            .Take(maxDocs)
            .Select((group, i) => new Candidate(i + 1, [.. group]))
            .ToList();
        var queryTerms = KoreanLexicalTokenizer.Default.Tokenize(TextNormalizer.Normalize(request.Query!)).ToHashSet(StringComparer.Ordinal);

        // What the context costs besides the passages themselves: headers and separators.
        var overhead = documents.Sum(d => d.Header.Length) + (SourceSeparator.Length * Math.Max(0, documents.Count - 1));
        var shares = Share(documents.Select(d => d.FullText.Length).ToList(), Math.Max(0, maxChars - overhead));

        var context = new StringBuilder();
        var sources = new List<ContextSource>();
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            var text = document.FullText.Length <= shares[i] ? document.FullText : Compress(document.FullText, shares[i], queryTerms);
            if (text.Length == 0)
            {
                // No room left for even a cut sentence: the remaining, lower-scored documents are left out.
                break;
            }

            if (context.Length > 0)
            {
                context.Append(SourceSeparator);
            }

            context.Append(document.Header).Append(text);
            var best = document.Chunks[0];
            sources.Add(new ContextSource(
                document.Index, best.DocumentId, best.Title, [.. document.Chunks.Select(c => c.ChunkId)], best.Score,
                text.Length, !ReferenceEquals(text, document.FullText), best.Tags, best.Metadata,
                best.Section, document.PageStart, document.PageEnd));
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        return new ContextResponse(
            context.ToString(), sources, context.Length, documents.Take(sources.Count).Sum(d => d.FullText.Length),
            found.Cached, Math.Round(elapsed.TotalMilliseconds, 3), found.Mode);
    }

    /// <summary>
    /// Max-min fair shares of <paramref name="budget"/>: a document that needs less than an equal split
    /// keeps all it needs, and what it leaves is split again among the others.
    /// </summary>
    public static int[] Share(IReadOnlyList<int> needs, int budget)
    {
        var shares = new int[needs.Count];
        var open = Enumerable.Range(0, needs.Count).OrderBy(i => needs[i]).ToList();
        var left = budget;
        while (open.Count > 0)
        {
            var equal = left / open.Count;
            var i = open[0];
            if (needs[i] <= equal)
            {
                shares[i] = needs[i];
                left -= needs[i];
                open.RemoveAt(0);
                continue;
            }

            foreach (var j in open)
            {
                shares[j] = equal;
            }

            break;
        }

        return shares;
    }

    /// <summary>
    /// The sentences of <paramref name="text"/> that share the most query terms, chosen best first while they
    /// fit in <paramref name="budget"/> characters and printed in their original order. A first choice too
    /// long for the budget is cut at a word boundary. Empty when the budget cannot hold a useful fragment.
    /// </summary>
    public static string Compress(string text, int budget, IReadOnlySet<string> queryTerms)
    {
        const int minimumFragment = 16;
        if (budget < minimumFragment)
        {
            return string.Empty;
        }

        var sentences = SentenceSplitter.Split(text)
            .Select((span, position) => (Text: text.Substring(span.Start, span.Length), Position: position))
            .Select(s => (s.Text, s.Position, Relevance: Relevance(s.Text, queryTerms)))
            .ToList();
        if (sentences.Count == 0)
        {
            return string.Empty;
        }

        // Relevance first; among equals, earlier sentences (a passage's opening usually states its subject).
        var ranked = sentences.OrderByDescending(s => s.Relevance).ThenBy(s => s.Position).ToList();
        var chosen = new List<(string Text, int Position)>();
        var used = 0;
        foreach (var sentence in ranked)
        {
            var cost = sentence.Text.Length + (chosen.Count == 0 ? 0 : Gap.Length);
            if (used + cost <= budget)
            {
                chosen.Add((sentence.Text, sentence.Position));
                used += cost;
            }
        }

        if (chosen.Count == 0)
        {
            return Cut(ranked[0].Text, budget);
        }

        chosen.Sort((a, b) => a.Position.CompareTo(b.Position));
        var output = new StringBuilder();
        for (var i = 0; i < chosen.Count; i++)
        {
            if (i > 0)
            {
                output.Append(chosen[i].Position == chosen[i - 1].Position + 1 ? " " : Gap);
            }

            output.Append(chosen[i].Text);
        }

        if (chosen[0].Position > 0 && output.Length + 2 <= budget)
        {
            output.Insert(0, "… ");
        }

        return output.ToString();
    }

    private static int Relevance(string sentence, IReadOnlySet<string> queryTerms) =>
        queryTerms.Count == 0 ? 0 : KoreanLexicalTokenizer.Default.Tokenize(sentence).Distinct(StringComparer.Ordinal).Count(queryTerms.Contains);

    private static string Cut(string sentence, int budget)
    {
        var room = budget - 1;
        var end = sentence.LastIndexOf(' ', Math.Min(room, sentence.Length - 1));
        if (end < room / 2)
        {
            end = room;
        }

        if (end > 0 && char.IsHighSurrogate(sentence[end - 1]))
        {
            end--;
        }

        return sentence[..end].TrimEnd() + "…";
    }

    private (int MaxChars, int MaxDocs, int Candidates) Validate(ContextRequest? request)
    {
        if (request is null)
        {
            throw new RequestValidationException("$", "The body must be a JSON object with at least 'query'.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var maxChars = request.MaxChars ?? 6000;
        if (maxChars < 200 || maxChars > _options.MaxContextChars)
        {
            errors["maxChars"] = [string.Create(CultureInfo.InvariantCulture,
                $"maxChars is between 200 and {_options.MaxContextChars} (RagPlatform:Query:MaxContextChars).")];
        }

        var maxDocs = request.MaxDocs ?? 3;
        if (maxDocs < 1 || maxDocs > 50)
        {
            errors["maxDocs"] = ["maxDocs is between 1 and 50."];
        }

        var candidates = request.Candidates ?? Math.Min(_options.MaxTopK, Math.Max(20, maxDocs * 5));
        if (candidates < 1 || candidates > _options.MaxTopK)
        {
            errors["candidates"] = [string.Create(CultureInfo.InvariantCulture, $"candidates is between 1 and {_options.MaxTopK}.")];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        return (maxChars, maxDocs, candidates);
    }

    private sealed class Candidate(int index, List<SearchResult> chunks)
    {
        public int Index { get; } = index;

        /// <summary>The document's chunks among the results, best first.</summary>
        public List<SearchResult> Chunks { get; } = chunks;

        /// <summary>The pages of the best chunk, for citing (a span over every chunk of a long document would say little).</summary>
        public int? PageStart { get; } = chunks[0].PageStart;

        public int? PageEnd { get; } = chunks[0].PageEnd ?? chunks[0].PageStart;

        /// <summary>"[n] Title", then the best chunk's section and the pages, when the document is a parsed file, so a model can cite them.</summary>
        public string Header => string.Create(CultureInfo.InvariantCulture,
            $"[{Index}] {(string.IsNullOrWhiteSpace(Chunks[0].Title) ? Chunks[0].DocumentId : Chunks[0].Title)}{Citation()}\n");

        private string Citation()
        {
            var parts = new List<string>();
            if (!string.IsNullOrEmpty(Chunks[0].Section))
            {
                parts.Add(Chunks[0].Section!);
            }

            if (PageStart is { } start)
            {
                parts.Add(PageEnd is { } end && end > start
                    ? string.Create(CultureInfo.InvariantCulture, $"p. {start}-{end}")
                    : string.Create(CultureInfo.InvariantCulture, $"p. {start}"));
            }

            return parts.Count == 0 ? string.Empty : " (" + string.Join(", ", parts) + ")";
        }

        public string FullText { get; } = string.Join(PassageSeparator, chunks.Select(c => c.Text));
    }
}
