using System.CommandLine;
using RagPlatform.Cli;
using RagPlatform.Cli.Commands;
using RagPlatform.Cli.Output;

Terminal.Configure();

var (settings, rest) = ConfigurationArguments.Split(args);
var root = new RootCommand("rag — ingest, search and evaluate with RagPlatform. Platform settings for a server this command runs " +
    "(serve, bench, or in-process) are given as --Section:Key=value, e.g. --RagPlatform:Chunking:MaxTokens=300.")
{
    ServeCommand.Create(settings),
    IngestCommand.Create(settings),
    ParseCommand.Create(settings),
    SearchCommand.Create(settings),
    StatusCommand.Create(settings),
    ReindexCommand.Create(settings),
    EvalCommand.Create(settings),
    BenchCommand.Create(settings),
    KeysCommand.Create(),
    MigrateCommand.Create(settings),
    BackupCommand.CreateBackup(settings),
    BackupCommand.CreateRestore(settings),
    ImportCommand.Create(settings),
    LexicalCommand.Create(settings),
};

var parsed = root.Parse(rest);
var exitCode = await parsed.InvokeAsync();
// System.CommandLine reports parse errors with exit code 1; a usage error is 2 here, as in most CLIs.
return parsed.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
