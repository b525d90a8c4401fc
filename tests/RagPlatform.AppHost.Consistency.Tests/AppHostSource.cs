using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace RagPlatform.AppHost.Consistency.Tests;

/// <summary>The AppHost's files, read as text from the repository (found from the test assembly upwards).</summary>
public static partial class AppHostSource
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string AppHostDirectory => Path.Combine(RepositoryRoot, "AppHost", "RagPlatform.AppHost");

    /// <summary>Program.cs without its comments, so a name in a comment never counts as wiring.</summary>
    public static string Program { get; } = Comments().Replace(File.ReadAllText(Path.Combine(AppHostDirectory, "Program.cs")), string.Empty);

    public static XDocument ProjectFile { get; } = XDocument.Load(Path.Combine(AppHostDirectory, "RagPlatform.AppHost.csproj"));

    public static string Path_(params string[] parts) => Path.Combine([RepositoryRoot, .. parts]);

    /// <summary>Names given to the server resources: these become the ConnectionStrings__&lt;name&gt; the services get.</summary>
    public static IReadOnlyList<string> ServerResourceNames() =>
        ServerResource().Matches(Program).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>Every environment variable name passed to WithEnvironment as a string literal.</summary>
    public static IReadOnlyList<string> EnvironmentKeys() =>
        EnvironmentKey().Matches(Program).Select(m => m.Groups["key"].Value).Distinct().ToList();

    /// <summary>The <c>Projects.X</c> types the AppHost runs.</summary>
    public static IReadOnlyList<string> ProjectTypes() =>
        ProjectType().Matches(Program).Select(m => m.Groups["type"].Value).ToList();

    /// <summary>The Dockerfile stages named by PublishAsDockerFile.</summary>
    public static IReadOnlyList<string> DockerfileStages() =>
        DockerfileStage().Matches(Program).Select(m => m.Groups["stage"].Value).ToList();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RagPlatform.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("RagPlatform.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"\.(?<method>AddRabbitMQ|AddRedis|AddQdrant|AddDatabase)\(\s*""(?<name>[^""]+)""")]
    private static partial Regex ServerResource();

    [GeneratedRegex(@"\.WithEnvironment\(\s*""(?<key>[^""]+)""")]
    private static partial Regex EnvironmentKey();

    [GeneratedRegex(@"AddProject<Projects\.(?<type>\w+)>")]
    private static partial Regex ProjectType();

    [GeneratedRegex(@"WithDockerfile\([^)]*stage:\s*""(?<stage>[^""]+)""")]
    private static partial Regex DockerfileStage();
}
