using Microsoft.AspNetCore.Hosting;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// Every options class is validated when the host starts, nested sections and plugin settings included: an
/// out-of-range value stops start-up with a message naming its configuration key.
/// </summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("RagPlatform:DataDirectory", "")]
    [InlineData("RagPlatform:Query:MaxTopK", "0")]
    [InlineData("RagPlatform:Query:DefaultMode", "fuzzy")]
    [InlineData("RagPlatform:Chunking:MaxTokens", "8")]
    [InlineData("RagPlatform:Ingestion:MaxDocumentsPerRequest", "0")]
    [InlineData("RagPlatform:Ingestion:Parsing:TimeoutSeconds", "0")]
    [InlineData("RagPlatform:Embedding:Budget:MonthlyLimit", "-1")]
    [InlineData("RagPlatform:VectorStore:RetiredVersionGraceSeconds", "-1")]
    [InlineData("RagPlatform:Messaging:ConcurrentMessageLimit", "0")]
    [InlineData("RagPlatform:IndexOwner:TimeoutSeconds", "0")]
    [InlineData("RagPlatform:Lexical:B", "2")]
    [InlineData("RagPlatform:Lexical:K3", "-1")]
    [InlineData("RagPlatform:Cache:MetadataSeconds", "-1")]
    [InlineData("RagPlatform:Security:RateLimits:WindowSeconds", "0")]
    [InlineData("RagPlatform:Security:Keys:0:Id", "")]
    [InlineData("RagPlatform:Embedding:Providers:hashing:Dimensions", "8")]
    [InlineData("RagPlatform:VectorStore:Backends:embedded:CompactAfterLogBytes", "10")]
    public void An_out_of_range_setting_stops_start_up_naming_its_key(string key, string value)
    {
        using var platform = new PlatformFactory();
        using var factory = platform.WithWebHostBuilder(builder =>
        {
            builder.UseSetting(key, value);
            if (key.StartsWith("RagPlatform:Security:Keys:0:", StringComparison.Ordinal))
            {
                builder.UseSetting("RagPlatform:Security:Keys:0:Hash", "sha256:00");
                builder.UseSetting("RagPlatform:Security:Keys:0:Scopes:0", "query");
            }
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var messages = Messages(error);
        Assert.Contains(key, messages, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nested_range_failure_reads_as_the_key_and_its_bounds()
    {
        using var platform = new PlatformFactory();
        using var factory = platform.WithWebHostBuilder(builder => builder.UseSetting("RagPlatform:Query:MaxTopK", "0"));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("The field RagPlatform:Query:MaxTopK must be between 1 and 1000.", Messages(error), StringComparison.Ordinal);
    }

    [Fact]
    public void Default_settings_start()
    {
        using var platform = new PlatformFactory();
        using var client = platform.CreateClient();
        Assert.NotNull(client);
    }

    private static string Messages(Exception error)
    {
        var all = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            all.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                all.AddRange(aggregate.InnerExceptions.Select(Messages));
            }
        }

        return string.Join(" | ", all);
    }
}
