using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RagPlatform.Core.Configuration;

namespace RagPlatform.AppHost.Consistency.Tests;

/// <summary>
/// The AppHost cannot be built here (no Aspire packages on our mirror), so these tests read its Program.cs and
/// csproj as text and check the names in them against what the services read. They check names, not behaviour:
/// that a resource called "cache" exists and the services read ConnectionStrings:cache, not that Redis answers.
/// </summary>
public sealed class AppHostConsistencyTests
{
    [Fact]
    public void Every_server_resource_the_AppHost_declares_is_a_connection_name_the_services_read_and_none_is_missing()
    {
        var declared = AppHostSource.ServerResourceNames();

        Assert.Equal(declared.Count, declared.Distinct().Count());
        Assert.Equal(ConnectionNames.AppHostResources.Order(), declared.Order());
    }

    [Fact]
    public void The_Qdrant_REST_connection_name_is_the_one_Aspire_derives_from_the_resource_name()
    {
        // Aspire.Hosting.Qdrant 13.1.3 injects ConnectionStrings__{name}_{QdrantServerResource.HttpEndpointName},
        // HttpEndpointName being "http" (QdrantBuilderExtensions.WithReference).
        Assert.Equal(ConnectionNames.Qdrant + "_http", ConnectionNames.QdrantHttp);
    }

    [Fact]
    public void Every_environment_key_the_AppHost_injects_binds_to_a_setting_the_services_read()
    {
        var keys = AppHostSource.EnvironmentKeys();
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.True(IsReadByTheServices(key, out var why), $"{key}: {why}"));
    }

    [Fact]
    public void The_backend_and_provider_keys_the_AppHost_sets_per_environment_are_the_option_keys()
    {
        var keys = AppHostSource.EnvironmentKeys();
        Assert.Contains(OptionKey(nameof(RagPlatformOptions.VectorStore), nameof(VectorStoreOptions.Backend)), keys);
        Assert.Contains(OptionKey(nameof(RagPlatformOptions.Embedding), nameof(EmbeddingOptions.Provider)), keys);
        Assert.Contains(OptionKey(nameof(RagPlatformOptions.Messaging), nameof(MessagingOptions.Transport)), keys);
    }

    [Fact]
    public void Every_project_the_AppHost_runs_is_referenced_exists_and_has_an_http_launch_profile()
    {
        var references = AppHostSource.ProjectFile.Descendants("ProjectReference")
            .Select(r => (string)r.Attribute("Include")!)
            .ToDictionary(path => Path.GetFileNameWithoutExtension(path).Replace('.', '_'), path => path);
        var projects = AppHostSource.ProjectTypes();

        Assert.Equal(3, projects.Count);
        Assert.All(projects, type =>
        {
            Assert.True(references.TryGetValue(type, out var relativePath), $"Projects.{type} has no ProjectReference");
            var projectFile = Path.GetFullPath(Path.Combine(AppHostSource.AppHostDirectory, relativePath!));
            Assert.True(File.Exists(projectFile), projectFile);

            // Aspire takes a project's endpoints from its launch profile (the "http" one here).
            var launchSettings = Path.Combine(Path.GetDirectoryName(projectFile)!, "Properties", "launchSettings.json");
            using var json = JsonDocument.Parse(File.ReadAllText(launchSettings));
            var http = json.RootElement.GetProperty("profiles").GetProperty("http");
            Assert.StartsWith("http://", http.GetProperty("applicationUrl").GetString(), StringComparison.Ordinal);

            // Aspire gives each replica its port through ASPNETCORE_URLS, which appsettings.json's "Urls" would
            // outrank (ASPNETCORE_* variables are read before appsettings.json): the services must not pin one.
            using var appSettings = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(projectFile)!, "appsettings.json")));
            Assert.DoesNotContain(appSettings.RootElement.EnumerateObject(), p => p.NameEquals("Urls") || p.Name.Equals("urls", StringComparison.OrdinalIgnoreCase));
        });
    }

    [Fact]
    public void The_Aspire_SDK_and_every_Aspire_package_share_one_version()
    {
        var sdk = (string)AppHostSource.ProjectFile.Root!.Attribute("Sdk")!;
        var sdkVersion = Assert.Single(Regex.Matches(sdk, @"^Aspire\.AppHost\.Sdk/(?<v>\d+\.\d+\.\d+)$")).Groups["v"].Value;
        Assert.StartsWith("13.1.", sdkVersion, StringComparison.Ordinal);

        var versions = XDocument.Load(AppHostSource.Path_("Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!);
        var aspire = versions.Where(v => v.Key.StartsWith("Aspire.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(aspire);
        Assert.All(aspire, v => Assert.Equal(sdkVersion, v.Value));

        foreach (var package in AppHostSource.ProjectFile.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!))
        {
            Assert.True(versions.ContainsKey(package), $"{package} has no PackageVersion in Directory.Packages.props");
        }
    }

    [Fact]
    public void The_Dockerfile_stages_the_AppHost_publishes_exist()
    {
        var dockerfile = File.ReadAllText(AppHostSource.Path_("deploy", "Dockerfile"));
        var stages = AppHostSource.DockerfileStages();

        Assert.Equal(3, stages.Count);
        Assert.All(stages, stage => Assert.Matches(new Regex(@"^FROM \S+ AS " + Regex.Escape(stage) + @"\s*$", RegexOptions.Multiline), dockerfile));
    }

    [Fact]
    public void The_AppHost_is_in_the_solution_and_out_of_the_CI_filter()
    {
        var solution = File.ReadAllText(AppHostSource.Path_("RagPlatform.sln"));
        var filter = File.ReadAllText(AppHostSource.Path_("RagPlatform.Ci.slnf"));

        Assert.Contains(@"AppHost\RagPlatform.AppHost\RagPlatform.AppHost.csproj", solution.Replace('/', '\\'), StringComparison.Ordinal);
        Assert.DoesNotContain("RagPlatform.AppHost.csproj", filter, StringComparison.Ordinal);
        Assert.DoesNotContain("Aspire", filter, StringComparison.Ordinal);
    }

    private static string OptionKey(params string[] path) => string.Join("__", [RagPlatformOptions.SectionName, .. path]);

    /// <summary>
    /// Walks <c>RagPlatform__A__B</c> down <see cref="RagPlatformOptions"/>' properties. Under
    /// <c>Embedding__Providers__&lt;name&gt;</c> and <c>VectorStore__Backends__&lt;name&gt;</c> the section belongs to
    /// the named plugin's own options class, which is not visible here: only the shape is checked there.
    /// </summary>
    private static bool IsReadByTheServices(string key, out string why)
    {
        var parts = key.Split("__");
        if (parts[0] == "ConnectionStrings")
        {
            why = "not a connection name the services read";
            return parts.Length == 2 && (ConnectionNames.AppHostResources.Contains(parts[1]) || parts[1] == ConnectionNames.QdrantHttp);
        }

        if (parts[0] != RagPlatformOptions.SectionName)
        {
            why = "not under the RagPlatform section or ConnectionStrings";
            return false;
        }

        var type = typeof(RagPlatformOptions);
        for (var i = 1; i < parts.Length; i++)
        {
            if ((type == typeof(EmbeddingOptions) && parts[i] == "Providers") || (type == typeof(VectorStoreOptions) && parts[i] == "Backends"))
            {
                why = "a plugin section needs a plugin name and a setting";
                return parts.Length >= i + 3 && parts[(i + 1)..].All(p => p.Length > 0);
            }

            var property = type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                why = $"{type.Name} has no property {parts[i]}";
                return false;
            }

            type = property.PropertyType;
        }

        why = "names a section, not a setting";
        return type.IsPrimitive || type == typeof(string) || type.IsEnum || Nullable.GetUnderlyingType(type) is not null;
    }
}
