using System.Reflection;
using System.Xml.Linq;

namespace RagPlatform.Core.Tests;

/// <summary>
/// The project layout as a rule, read from the project files: Core holds no transport and no database driver,
/// each project references exactly the projects of the table below, and no project opens its internals to
/// anything but its own test project. A new reference is a decision: make it here, with the reason.
/// </summary>
public sealed class ProjectLayoutTests
{
    /// <summary>
    /// The intended direct project references of every project under services/ (plus the SDK and ServiceDefaults
    /// they name). Libraries first, then the hosts. Only the hosts that run ingestion or embedding reference
    /// Messaging (MassTransit on RabbitMQ); every host references Storage.Sqlite because each one falls back to
    /// the embedded SQLite file when ConnectionStrings:ragdb is not set.
    /// </summary>
    private static readonly Dictionary<string, string[]> DirectReferences = new()
    {
        ["RagPlatform.Contracts"] = [],
        // The SDK for the one retry policy of remote calls (RagPlatform.Sdk.Remote.RemoteRetry).
        ["RagPlatform.Client"] = ["RagPlatform.Contracts", "RagPlatform.Sdk"],
        ["RagPlatform.DocumentSamples"] = [],
        ["RagPlatform.WebConsole"] = [],
        ["RagPlatform.Lexical"] = ["RagPlatform.Sdk"],
        ["RagPlatform.Core"] = ["RagPlatform.Sdk", "RagPlatform.Contracts", "RagPlatform.Lexical"],
        ["RagPlatform.Messaging"] = ["RagPlatform.Core"],
        ["RagPlatform.Storage.Sqlite"] = ["RagPlatform.Core"],
        ["RagPlatform.Storage.Postgres"] = ["RagPlatform.Core", "RagPlatform.Lexical"],
        ["RagPlatform.Caching.Redis"] = ["RagPlatform.Core"],
        ["RagPlatform.Ingestion"] = ["RagPlatform.Core", "RagPlatform.Lexical"],
        ["RagPlatform.Embedding"] = ["RagPlatform.Core", "RagPlatform.Lexical"],
        ["RagPlatform.Query"] = ["RagPlatform.Core", "RagPlatform.Lexical"],
        ["RagPlatform.QueryApi"] =
        [
            "RagPlatform.ServiceDefaults", "RagPlatform.Query", "RagPlatform.Storage.Sqlite", "RagPlatform.Storage.Postgres",
            "RagPlatform.Caching.Redis", "RagPlatform.WebConsole",
        ],
        ["RagPlatform.IngestionService"] =
        [
            "RagPlatform.ServiceDefaults", "RagPlatform.Ingestion", "RagPlatform.Messaging", "RagPlatform.Storage.Sqlite",
            "RagPlatform.Storage.Postgres",
        ],
        ["RagPlatform.EmbeddingWorker"] =
        [
            "RagPlatform.ServiceDefaults", "RagPlatform.Embedding", "RagPlatform.Messaging", "RagPlatform.Storage.Sqlite",
            "RagPlatform.Storage.Postgres", "RagPlatform.Caching.Redis",
        ],
        // The standalone composition (all three services in one process), shared by the Standalone host and `rag serve`.
        ["RagPlatform.Hosting"] =
        [
            "RagPlatform.ServiceDefaults", "RagPlatform.Ingestion", "RagPlatform.Embedding", "RagPlatform.Query",
            "RagPlatform.Messaging", "RagPlatform.Storage.Sqlite", "RagPlatform.Storage.Postgres", "RagPlatform.WebConsole",
        ],
        ["RagPlatform.Standalone"] = ["RagPlatform.Hosting"],
        ["RagPlatform.Cli"] = ["RagPlatform.Hosting", "RagPlatform.Client", "RagPlatform.DocumentSamples"],
    };

    /// <summary>Packages that belong to one project only: the transport, the SQLite driver.</summary>
    private static readonly Dictionary<string, string> PackageOwners = new()
    {
        ["MassTransit.RabbitMQ"] = "RagPlatform.Messaging",
        ["Microsoft.Data.Sqlite"] = "RagPlatform.Storage.Sqlite",
        ["SQLitePCLRaw.bundle_e_sqlite3"] = "RagPlatform.Storage.Sqlite",
        ["SQLitePCLRaw.core"] = "RagPlatform.Storage.Sqlite",
    };

    private static readonly string RepoRoot = typeof(ProjectLayoutTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    [Fact]
    public void Core_references_no_transport_and_no_database_driver()
    {
        var core = Project("services/RagPlatform.Core/RagPlatform.Core.csproj");
        var forbidden = core.Packages.Where(p => p.StartsWith("MassTransit", StringComparison.Ordinal)
            || p.StartsWith("Microsoft.Data.Sqlite", StringComparison.Ordinal) || p.StartsWith("SQLitePCLRaw", StringComparison.Ordinal)
            || p.StartsWith("Npgsql", StringComparison.Ordinal) || p.StartsWith("Aspire.", StringComparison.Ordinal)).ToList();
        Assert.True(forbidden.Count == 0, $"RagPlatform.Core references {string.Join(", ", forbidden)}.");
    }

    [Fact]
    public void Each_service_project_references_exactly_the_projects_of_the_layout_table()
    {
        var projects = ServiceProjects();
        Assert.Equal(DirectReferences.Keys.Order(StringComparer.Ordinal), projects.Select(p => p.Name).Order(StringComparer.Ordinal));
        var problems = new List<string>();
        foreach (var project in projects)
        {
            var expected = DirectReferences[project.Name].ToHashSet(StringComparer.Ordinal);
            var extra = project.References.Except(expected).ToList();
            var missing = expected.Except(project.References).ToList();
            if (extra.Count > 0 || missing.Count > 0)
            {
                problems.Add($"{project.Name}: unexpected [{string.Join(", ", extra)}], missing [{string.Join(", ", missing)}]");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_query_api_carries_no_message_bus()
    {
        var byName = ServiceProjects().ToDictionary(p => p.Name);
        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var open = new Stack<string>(["RagPlatform.QueryApi"]);
        while (open.TryPop(out var name))
        {
            if (reachable.Add(name) && byName.TryGetValue(name, out var project))
            {
                foreach (var reference in project.References)
                {
                    open.Push(reference);
                }
            }
        }

        Assert.DoesNotContain("RagPlatform.Messaging", reachable);
        Assert.DoesNotContain(reachable.Where(byName.ContainsKey), n => byName[n].Packages.Any(p => p.StartsWith("MassTransit", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_transport_and_the_sqlite_driver_are_referenced_only_by_their_own_project()
    {
        var problems = AllProjects()
            .SelectMany(p => p.Packages.Where(PackageOwners.ContainsKey).Where(package => PackageOwners[package] != p.Name)
                .Select(package => $"{p.Name} references {package} (only {PackageOwners[package]} may)"))
            .ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Internals_are_visible_only_to_a_projects_own_tests()
    {
        var problems = new List<string>();
        foreach (var project in AllProjects())
        {
            problems.AddRange(project.InternalsVisibleTo.Where(friend => friend != project.Name + ".Tests")
                .Select(friend => $"{project.Name} opens its internals to {friend}"));
        }

        // The attribute written in code instead of the project file counts too.
        foreach (var root in SourceRoots)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoRoot, root), "*.cs", SearchOption.AllDirectories))
            {
                if (!IsBuildOutput(file) && File.ReadAllText(file).Contains("InternalsVisibleTo(", StringComparison.Ordinal))
                {
                    problems.Add($"{Path.GetRelativePath(RepoRoot, file)} declares InternalsVisibleTo in code");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static readonly string[] SourceRoots = ["services", "plugins", "ServiceDefaults", "AppHost"];

    private sealed record ProjectFile(string Name, IReadOnlySet<string> References, IReadOnlyList<string> Packages, IReadOnlyList<string> InternalsVisibleTo);

    private static List<ProjectFile> ServiceProjects() =>
        Directory.EnumerateFiles(Path.Combine(RepoRoot, "services"), "*.csproj", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(f)).Select(f => Project(Path.GetRelativePath(RepoRoot, f))).ToList();

    private static List<ProjectFile> AllProjects() =>
        SourceRoots.SelectMany(root => Directory.EnumerateFiles(Path.Combine(RepoRoot, root), "*.csproj", SearchOption.AllDirectories))
            .Where(f => !IsBuildOutput(f)).Select(f => Project(Path.GetRelativePath(RepoRoot, f))).ToList();

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules");

    private static ProjectFile Project(string relativePath)
    {
        var document = XDocument.Load(Path.Combine(RepoRoot, relativePath));
        var items = document.Descendants().ToList();
        return new ProjectFile(
            Path.GetFileNameWithoutExtension(relativePath),
            items.Where(e => e.Name.LocalName == "ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/'))).ToHashSet(StringComparer.Ordinal),
            items.Where(e => e.Name.LocalName == "PackageReference").Select(e => e.Attribute("Include")!.Value).ToList(),
            items.Where(e => e.Name.LocalName == "InternalsVisibleTo").Select(e => e.Attribute("Include")!.Value).ToList());
    }
}
