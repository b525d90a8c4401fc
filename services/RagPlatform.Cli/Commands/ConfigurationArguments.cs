using System.CommandLine;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// Platform configuration given on the command line (<c>--RagPlatform:Chunking:MaxTokens=300</c>): tokens the
/// parser did not match, handed to the host the way ASP.NET Core reads its arguments.
/// </summary>
public static class ConfigurationArguments
{
    /// <summary>
    /// Commands that may host the platform accept only the <c>--Section:Key=value</c> form: a separate value
    /// token would be taken for a positional argument, and anything else is most likely a typo that must
    /// not be ignored silently.
    /// </summary>
    public static IReadOnlyList<string> Collect(ParseResult result)
    {
        foreach (var token in result.UnmatchedTokens)
        {
            if (!IsConfigurationAssignment(token))
            {
                throw new UsageException(
                    $"unrecognised argument '{token}'. Platform settings are given as --Section:Key=value (e.g. --RagPlatform:Chunking:MaxTokens=300).");
            }
        }

        return [.. result.UnmatchedTokens];
    }

    public static bool IsConfigurationAssignment(string token)
    {
        if (!token.StartsWith("--", StringComparison.Ordinal))
        {
            return false;
        }

        var equals = token.IndexOf('=', StringComparison.Ordinal);
        var key = equals < 0 ? string.Empty : token[2..equals];
        return key.Contains(':', StringComparison.Ordinal) && !key.StartsWith(':') && !key.EndsWith(':');
    }
}
