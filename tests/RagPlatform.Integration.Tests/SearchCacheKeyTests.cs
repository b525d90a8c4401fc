using RagPlatform.Core.Configuration;
using RagPlatform.Lexical;
using RagPlatform.Query;

namespace RagPlatform.Integration.Tests;

/// <summary>The part of the search result-cache key that names the configuration a ranking came from.</summary>
public sealed class SearchCacheKeyTests
{
    [Fact]
    public void Lexical_analyzer_settings_and_bm25_parameters_are_part_of_the_result_cache_key()
    {
        var query = new QueryOptions();
        var strategies = new[]
        {
            SearchService.CacheStrategy(query, new LexicalOptions()),
            SearchService.CacheStrategy(query, new LexicalOptions { WordTerms = false }),
            SearchService.CacheStrategy(query, new LexicalOptions { ParticleStems = true }),
            SearchService.CacheStrategy(query, new LexicalOptions { K1 = 0.9 }),
            SearchService.CacheStrategy(query, new LexicalOptions { B = 0.5 }),
        };

        Assert.Equal(strategies.Length, strategies.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains(new LexicalOptions().CreateTokenizer().AnalyzerId, strategies[0], StringComparison.Ordinal);
        Assert.Equal(strategies[0], SearchService.CacheStrategy(new QueryOptions(), new LexicalOptions()));
    }
}
