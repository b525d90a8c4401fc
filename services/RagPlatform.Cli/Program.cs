using System.CommandLine;
using RagPlatform.Cli;
using RagPlatform.Cli.Commands;
using RagPlatform.Cli.Output;

Terminal.Configure();

var root = new RootCommand("rag — ingest, search and evaluate with RagPlatform")
{
    ServeCommand.Create(),
    IngestCommand.Create(),
    SearchCommand.Create(),
    StatusCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
};

var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync();
// System.CommandLine reports parse errors with exit code 1; a usage error is 2 here, as in most CLIs.
return parsed.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
