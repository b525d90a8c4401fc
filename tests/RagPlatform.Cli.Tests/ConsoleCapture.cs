using System.CommandLine;
using System.Text.Json;

namespace RagPlatform.Cli.Tests;

/// <summary>
/// Runs a command as <c>rag</c> would, with the console captured. Console is process-wide, so every test
/// class that uses this joins the <see cref="ConsoleCapture"/> collection (not run in parallel with each other).
/// </summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture
{
    /// <summary>Exit code, standard output and standard error of <c>rag <paramref name="args"/></c> with only <paramref name="command"/> registered.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        var (output, error) = (new StringWriter(), new StringWriter());
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = await root.Parse(args).InvokeAsync();
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }

    /// <summary>The JSON object a <c>--json</c> command prints as its last line; fails the test on a non-zero exit.</summary>
    public static async Task<JsonElement> RunJsonAsync(Command command, params string[] args)
    {
        var (exit, output, error) = await RunAsync(command, args);
        Assert.True(exit == 0, $"exit {exit}: {output}\n{error}");
        return JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
    }
}
