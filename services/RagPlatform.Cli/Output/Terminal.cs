using System.Globalization;
using Spectre.Console;

namespace RagPlatform.Cli.Output;

public static class Terminal
{
    /// <summary>
    /// When stdout is a file or a pipe, tables and summaries are written as plain text: no escape codes, and lines
    /// wide enough not to be wrapped at Spectre's assumed 80 columns.
    /// </summary>
    public static void Configure()
    {
        if (!Console.IsOutputRedirected)
        {
            return;
        }

        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        AnsiConsole.Profile.Width = 240;
    }

    /// <summary>Progress bars only for a person watching: stdout is a terminal and JSON was not asked for.</summary>
    public static bool ShowsProgress(bool json) => !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    /// <summary>Text on one line, cut to about <paramref name="length"/> characters, for table cells.</summary>
    public static string Excerpt(string? text, int length)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= length ? line : line[..length].TrimEnd() + "…";
    }
}
