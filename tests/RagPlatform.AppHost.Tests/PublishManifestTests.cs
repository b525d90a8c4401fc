using System.Reflection;
using System.Text.Json;
using RagPlatform.Caching.Redis;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Configuration;
using RagPlatform.Lexical;
using RagPlatform.Messaging;
using RagPlatform.Core.Security;
using RagPlatform.Plugins.Qdrant;
using RagPlatform.Storage.Postgres;

namespace RagPlatform.AppHost.Tests;

/// <summary>
/// The manifest the AppHost publishes (<c>--publisher manifest</c>, what a deployment tool turns into containers): every
/// service's environment names exactly the connection strings and the settings that service reads, and no secret value.
/// </summary>
public sealed class PublishManifestTests : IClassFixture<PublishManifestTests.Manifest>
{
    /// <summary>Set by the framework and libraries the services run on, not by the platform's own options.</summary>
    private static readonly string[] FrameworkKeys = ["HTTP_PORTS", "ASPNETCORE_FORWARDEDHEADERS_ENABLED", "OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"];

    /// <summary>The option classes the services bind, by the section they bind (longest first).</summary>
    private static readonly (string Section, Type Options)[] OptionSections =
    [
        (RedisCacheOptions.SectionName, typeof(RedisCacheOptions)),
        (LexicalOptions.SectionName, typeof(LexicalOptions)),
        (SecurityOptions.SectionName, typeof(SecurityOptions)),
        (RagPlatformOptions.SectionName + ":Cache", typeof(CacheOptions)),
        (RagPlatformOptions.SectionName, typeof(RagPlatformOptions)),
    ];

    private readonly Manifest _manifest;

    public PublishManifestTests(Manifest manifest) => _manifest = manifest;

    public static TheoryData<string> Services => ["ingestion", "embedding-worker", "query"];

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_is_given_exactly_the_connection_strings_it_reads(string service)
    {
        var qdrant = new QdrantOptions().ConnectionName;
        string[] expected = service switch
        {
            "ingestion" => [MessagingExtensions.ConnectionName, PostgresServiceExtensions.ConnectionName, qdrant],
            "embedding-worker" => [MessagingExtensions.ConnectionName, PostgresServiceExtensions.ConnectionName, RedisCacheExtensions.ConnectionName, qdrant],
            _ => [PostgresServiceExtensions.ConnectionName, RedisCacheExtensions.ConnectionName, qdrant],
        };

        var given = _manifest.Environment(service).Keys
            .Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
            .Select(k => k["ConnectionStrings__".Length..]);

        Assert.Equal(expected.Order(StringComparer.Ordinal), given.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_other_variable_of_a_service_is_a_platform_setting_it_binds_or_the_frameworks_own(string service)
    {
        var environment = _manifest.Environment(service);
        Assert.All(environment.Keys.Where(k => !k.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && !FrameworkKeys.Contains(k)), key =>
            Assert.True(BindsToAnOption(key, out var why), $"{service}: {key}: {why}"));
        Assert.Equal(_manifest.Options.EmbeddingProvider, environment["RagPlatform__Embedding__Provider"]);
        Assert.Equal("qdrant", environment["RagPlatform__VectorStore__Backend"]);
        Assert.Equal("64", environment["RagPlatform__Ingestion__MaxChunksPerMessage"]);
    }

    [Fact]
    public void Credentials_are_secret_inputs_and_only_referenced_where_they_are_used()
    {
        string[] secrets = ["messaging-password", "postgres-password", "cache-password", "qdrant-key", "openai-api-key"];
        foreach (var name in secrets)
        {
            var parameter = _manifest.Resources.GetProperty(name);
            Assert.Equal("parameter.v0", parameter.GetProperty("type").GetString());
            Assert.True(parameter.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), name);
            Assert.Equal($"{{{name}.inputs.value}}", parameter.GetProperty("value").GetString());
        }

        // The OpenAI key reaches the services as the provider's first key, by reference.
        Assert.All(new[] { "ingestion", "embedding-worker", "query" }, service =>
            Assert.Equal("{openai-api-key.value}", _manifest.Environment(service)["RagPlatform__Embedding__Providers__openai__ApiKeys__0"]));
    }

    [Fact]
    public void The_servers_are_the_containers_the_design_names()
    {
        Assert.Equal("docker.io/library/rabbitmq", Image("messaging").Split(':')[0]);
        Assert.EndsWith("-management", Image("messaging"), StringComparison.Ordinal);
        Assert.Equal("docker.io/pgvector/pgvector:pg17", Image("postgres"));
        Assert.StartsWith("docker.io/library/redis:", Image("cache"), StringComparison.Ordinal);
        Assert.StartsWith("qdrant/qdrant:", Image("qdrant"), StringComparison.Ordinal);

        var qdrant = _manifest.Resources.GetProperty("qdrant");
        Assert.Equal(6334, qdrant.GetProperty("bindings").GetProperty("grpc").GetProperty("targetPort").GetInt32());
        Assert.Equal("http2", qdrant.GetProperty("bindings").GetProperty("grpc").GetProperty("transport").GetString());
        Assert.Equal(6333, qdrant.GetProperty("bindings").GetProperty("http").GetProperty("targetPort").GetInt32());
        Assert.Equal("Endpoint={qdrant.bindings.grpc.url};Key={qdrant-key.value}", qdrant.GetProperty("connectionString").GetString());
        Assert.Equal("{postgres.connectionString};Database=ragdb", _manifest.Resources.GetProperty("ragdb").GetProperty("connectionString").GetString());
    }

    private string Image(string resource) => _manifest.Resources.GetProperty(resource).GetProperty("image").GetString()!;

    /// <summary>
    /// Walks <c>RagPlatform__A__B</c> down the option class bound at that section. Under <c>Embedding__Providers__&lt;name&gt;</c>
    /// and <c>VectorStore__Backends__&lt;name&gt;</c> the section belongs to the named plugin's own options class.
    /// </summary>
    private static bool BindsToAnOption(string key, out string why)
    {
        var path = key.Replace("__", ":", StringComparison.Ordinal);
        var (section, type) = OptionSections.FirstOrDefault(s => path.StartsWith(s.Section + ":", StringComparison.Ordinal));
        if (type is null)
        {
            why = "not under a section the services bind";
            return false;
        }

        var parts = path[(section.Length + 1)..].Split(':');
        for (var i = 0; i < parts.Length; i++)
        {
            if ((type == typeof(EmbeddingOptions) && parts[i] == "Providers") || (type == typeof(VectorStoreOptions) && parts[i] == "Backends"))
            {
                why = "a plugin section needs a plugin name and a setting";
                return parts.Length >= i + 3;
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                why = "a list takes an index";
                return int.TryParse(parts[i], out _) && i == parts.Length - 1;
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

    /// <summary>The AppHost published once for the class, with the OpenAI provider and a pass-through setting.</summary>
    public sealed class Manifest : IAsyncLifetime
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-manifest-" + Guid.NewGuid().ToString("N")[..12]);

        public RagAppHostOptions Options { get; } = new() { EmbeddingProvider = "openai" };

        public JsonElement Resources { get; private set; }

        public IReadOnlyDictionary<string, string> Environment(string resource) =>
            Resources.GetProperty(resource).GetProperty("env").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

        public async Task InitializeAsync()
        {
            var path = Path.Combine(_directory, "aspire-manifest.json");
            await AppHostProcess.RunToCompletionAsync(TimeSpan.FromMinutes(3),
                "--publisher", "manifest", "--output-path", path,
                "--RagPlatform:EmbeddingProvider=" + Options.EmbeddingProvider,
                "--RagPlatform:ServiceSettings:Ingestion:MaxChunksPerMessage=64");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            Resources = document.RootElement.GetProperty("resources").Clone();
        }

        public Task DisposeAsync()
        {
            Directory.Delete(_directory, recursive: true);
            return Task.CompletedTask;
        }
    }
}
