using System.CommandLine;
using Microsoft.AspNetCore.Hosting;
using RagPlatform.Hosting;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag serve</c>: the whole platform in this process until Ctrl+C.</summary>
public static class ServeCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var urls = new Option<string>("--urls")
        {
            Description = $"Address(es) to listen on, ';'-separated [default: {StandaloneHost.DefaultUrl}, or ASPNETCORE_URLS]",
            HelpName = "URL",
        };
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "Data directory (RagPlatform:DataDirectory) [default: ./data]",
            HelpName = "DIR",
        };
        var command = new Command("serve", "Run the RagPlatform server: ingestion, embedding worker and query API in one process. " +
            "Other settings pass through as --Section:Key=value (e.g. --RagPlatform:Chunking:MaxTokens=300) or RagPlatform__... variables.")
        {
            urls,
            dataDirectory,
        };
        // Anything else on the line is configuration for the host (also --Key value), as `dotnet run` would pass it.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            List<string> args = [.. settings, .. result.UnmatchedTokens];
            // Only explicit values are added, so RagPlatform__DataDirectory and ASPNETCORE_URLS keep working.
            if (result.GetValue(dataDirectory) is { } directory)
            {
                args.Add("--RagPlatform:DataDirectory=" + directory);
            }

            if (result.GetValue(urls) is { } addresses)
            {
                args.Add("--urls=" + addresses);
            }

            var builder = StandaloneHost.CreateBuilder([.. args]);
            if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            {
                builder.WebHost.UseUrls(StandaloneHost.DefaultUrl);
            }

            await using var app = StandaloneHost.Build(builder);
            await app.RunAsync(cancellationToken);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
