using System.Text;
using System.Text.Json;
using RagPlatform.Cli.Commands;
using RagPlatform.Cli.Ingest;

namespace RagPlatform.Cli.Tests;

public sealed class DocumentUploaderTests
{
    [Fact]
    public void Validation_errors_are_blamed_on_the_documents_they_name()
    {
        var blamed = DocumentUploader.Blame(new Dictionary<string, string[]>
        {
            ["$[3].text"] = ["text is required."],
            ["$[0].metadata.x"] = ["Metadata values must be a string, number or boolean, not object."],
            ["$[3].title"] = ["title must be at most 2000 characters."],
        }, count: 5);

        Assert.Equal([0, 3], blamed.Keys.Order());
        Assert.Equal("metadata.x: Metadata values must be a string, number or boolean, not object.", blamed[0]);
        Assert.Equal("text: text is required.; title: title must be at most 2000 characters.", blamed[3]);
    }

    [Theory]
    [InlineData("$")]
    [InlineData("$[7].text")]
    [InlineData("Content-Type")]
    public void Errors_about_the_whole_request_blame_no_document(string field)
    {
        var errors = new Dictionary<string, string[]> { ["$[1].id"] = ["id is required."], [field] = ["whole request"] };
        Assert.Empty(DocumentUploader.Blame(errors, count: 5));
    }

    [Fact]
    public void Body_is_a_JSON_array_of_the_serialised_documents()
    {
        var body = DocumentUploader.Body([Encoding.UTF8.GetBytes("{\"id\":\"a\"}"), Encoding.UTF8.GetBytes("{\"id\":\"한\"}")]);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(["a", "한"], json.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.Equal("[]", Encoding.UTF8.GetString(DocumentUploader.Body([])));
    }

    [Theory]
    [InlineData("--RagPlatform:Chunking:MaxTokens=300", true)]
    [InlineData("--Logging:LogLevel:Default=Debug", true)]
    [InlineData("--RagPlatform:Chunking:MaxTokens", false)]
    [InlineData("--verbose", false)]
    [InlineData("--urls=http://x", false)]
    [InlineData("RagPlatform:Chunking:MaxTokens=300", false)]
    [InlineData("--:x=1", false)]
    public void Configuration_assignments_are_recognised(string token, bool expected) =>
        Assert.Equal(expected, ConfigurationArguments.IsConfigurationAssignment(token));

    [Fact]
    public void Configuration_assignments_are_taken_out_of_the_command_line_up_to_a_double_dash()
    {
        var (settings, rest) = ConfigurationArguments.Split(
            ["ingest", "docs", "--RagPlatform:Chunking:MaxTokens=300", "-c", "x", "--", "--Odd:Name=file"]);
        Assert.Equal(["--RagPlatform:Chunking:MaxTokens=300"], settings);
        Assert.Equal(["ingest", "docs", "-c", "x", "--", "--Odd:Name=file"], rest);
    }
}
