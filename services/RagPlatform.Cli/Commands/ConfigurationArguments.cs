namespace RagPlatform.Cli.Commands;

/// <summary>
/// Platform configuration on the command line (<c>--RagPlatform:Chunking:MaxTokens=300</c>), in the form ASP.NET
/// Core reads its arguments. These are taken out before parsing, so every command that may host the platform
/// accepts them while the parser still rejects unknown options (typos are not silently ignored).
/// </summary>
public static class ConfigurationArguments
{
    /// <summary>Splits <c>--Section:Key=value</c> tokens (up to a literal <c>--</c>) from the rest of the command line.</summary>
    public static (IReadOnlyList<string> Settings, string[] Remaining) Split(IReadOnlyList<string> args)
    {
        var settings = new List<string>();
        var rest = new List<string>(args.Count);
        var optionsEnded = false;
        foreach (var token in args)
        {
            optionsEnded |= token == "--";
            if (!optionsEnded && IsConfigurationAssignment(token))
            {
                settings.Add(token);
            }
            else
            {
                rest.Add(token);
            }
        }

        return (settings, [.. rest]);
    }

    /// <summary>
    /// Only the one-token form: with a separate value token, the value would be taken for a positional argument.
    /// The key has a section (a ':'), which no option of the CLI has.
    /// </summary>
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
