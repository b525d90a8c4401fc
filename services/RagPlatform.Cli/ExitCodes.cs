namespace RagPlatform.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>The shell convention for a run stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
