using RagPlatform.Client;

namespace RagPlatform.Cli.Commands;

/// <summary>Turns the failures a user can act on into a one-line message on stderr and an exit code.</summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(Func<Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or HttpRequestException)
        {
            // Ctrl+C also stops an in-process platform, so a request in flight may fail rather than be cancelled.
            Error("cancelled");
            return ExitCodes.Cancelled;
        }
        catch (UsageException ex)
        {
            Error(ex.Message);
            return ExitCodes.Usage;
        }
        catch (CliException ex)
        {
            Error(ex.Message);
            return ExitCodes.Failure;
        }
        catch (RagApiException ex)
        {
            Error(ex.Message);
            return ExitCodes.Failure;
        }
        catch (HttpRequestException ex)
        {
            Error("the server could not be reached: " + (ex.InnerException?.Message ?? ex.Message));
            return ExitCodes.Failure;
        }
    }

    public static void Error(string message) => Console.Error.WriteLine("error: " + message);

    public static void Warn(string message) => Console.Error.WriteLine("warning: " + message);
}
