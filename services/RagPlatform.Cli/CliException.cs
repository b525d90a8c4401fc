namespace RagPlatform.Cli;

/// <summary>A failure the user can understand from its message alone (exit code 1, no stack trace).</summary>
public class CliException(string message) : Exception(message);

/// <summary>The command line itself is wrong (exit code 2), found after parsing.</summary>
public sealed class UsageException(string message) : CliException(message);
