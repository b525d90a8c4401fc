using System.Text.Json;
using RagPlatform.Cli.Search;

namespace RagPlatform.Cli.Tests;

public sealed class FilterParserTests
{
    [Theory]
    [InlineData("42", JsonValueKind.Number, "42")]
    [InlineData("-0.5", JsonValueKind.Number, "-0.5")]
    [InlineData("1e3", JsonValueKind.Number, "1e3")]
    [InlineData("true", JsonValueKind.True, "true")]
    [InlineData("false", JsonValueKind.False, "false")]
    [InlineData("007", JsonValueKind.String, "\"007\"")]
    [InlineData("True", JsonValueKind.String, "\"True\"")]
    [InlineData("null", JsonValueKind.String, "\"null\"")]
    [InlineData(" 5", JsonValueKind.String, "\" 5\"")]
    [InlineData("1 2", JsonValueKind.String, "\"1 2\"")]
    [InlineData("0x10", JsonValueKind.String, "\"0x10\"")]
    [InlineData("NaN", JsonValueKind.String, "\"NaN\"")]
    [InlineData("", JsonValueKind.String, "\"\"")]
    [InlineData("서울", JsonValueKind.String, "\"서울\"")]
    public void Values_are_JSON_scalars_when_they_parse_else_strings(string value, JsonValueKind kind, string json)
    {
        var element = FilterParser.ParseValue(value);
        Assert.Equal(kind, element.ValueKind);
        if (kind == JsonValueKind.String)
        {
            Assert.Equal(value, element.GetString());
        }
        else
        {
            Assert.Equal(json, element.GetRawText());
        }
    }

    [Fact]
    public void Pairs_split_at_the_first_equals_sign()
    {
        var filter = FilterParser.Parse(["region=south", "year=2024", "expr=a=b", "empty="]);
        Assert.Equal("south", filter["region"].GetString());
        Assert.Equal(2024, filter["year"].GetInt32());
        Assert.Equal("a=b", filter["expr"].GetString());
        Assert.Equal(string.Empty, filter["empty"].GetString());
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("=value")]
    public void A_pair_without_a_key_is_a_usage_error(string filter) =>
        Assert.Throws<UsageException>(() => FilterParser.Parse([filter]));

    [Fact]
    public void A_key_given_twice_is_a_usage_error() =>
        Assert.Throws<UsageException>(() => FilterParser.Parse(["a=1", "a=2"]));
}
