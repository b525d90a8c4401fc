using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace RagPlatform.AppHost.Tests;

/// <summary>
/// The application model the AppHost builds in each infrastructure form, read without starting anything: the Local form
/// runs no container and gives the services the same resource names, connection strings and settings as the containers.
/// </summary>
public sealed class InfrastructureModelTests : IDisposable
{
    private static readonly string[] Services = ["ingestion", "embedding-worker", "query"];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "rag-model-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    [Fact]
    public async Task Local_infrastructure_runs_no_container_and_names_its_servers_as_the_containers_are_named()
    {
        await using var local = await ModelAsync("Local");
        await using var containers = await ModelAsync("Containers");

        Assert.DoesNotContain(local.Resources, r => r is ContainerResource);
        Assert.All(new[] { "messaging", "postgres", "cache", "epmd" }, name => Assert.IsAssignableFrom<ExecutableResource>(Resource(local, name)));
        // The same connection-string resources, but Qdrant, which only the Containers form can run.
        Assert.Equal(ConnectionStringResources(containers).Where(n => n != "qdrant"), ConnectionStringResources(local));
    }

    [Fact]
    public async Task Local_connection_strings_have_the_container_forms_shape()
    {
        await using var local = await ModelAsync("Local");

        Assert.Equal("amqp://guest:{messaging-password.value}@{messaging.bindings.tcp.host}:{messaging.bindings.tcp.port}", Expression(local, "messaging"));
        Assert.Equal("Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=postgres;Password={postgres-password.value}", Expression(local, "postgres"));
        Assert.Equal("{postgres.connectionString};Database=ragdb", Expression(local, "ragdb"));
        Assert.Equal("{cache.bindings.tcp.host}:{cache.bindings.tcp.port},password={cache-password.value}", Expression(local, "cache"));
    }

    [Theory]
    [InlineData("Local")]
    [InlineData("Containers")]
    public async Task Two_embedding_worker_replicas_compete_for_the_queue_in_both_forms(string infrastructure)
    {
        await using var model = await ModelAsync(infrastructure);

        Assert.Equal(2, Resource(model, "embedding-worker").Annotations.OfType<ReplicaAnnotation>().Single().Replicas);
    }

    [Fact]
    public async Task On_local_infrastructure_the_query_api_owns_the_file_based_index_and_the_others_find_it_by_service_discovery()
    {
        await using var model = await ModelAsync("Local");

        var query = await EnvironmentAsync(model, "query");
        Assert.Equal("true", query["RagPlatform__IndexOwner__Serve"]);
        Assert.Equal("embedded", query["RagPlatform__VectorStore__Backend"]);
        foreach (var service in new[] { "ingestion", "embedding-worker" })
        {
            var environment = await EnvironmentAsync(model, service);
            Assert.Equal("http://query", environment["RagPlatform__IndexOwner__Endpoint"]);
            Assert.Equal("{query.bindings.http.url}", environment["services__query__http__0"]);
            Assert.False(environment.ContainsKey("RagPlatform__IndexOwner__Serve"));
        }

        // One data folder for every service, inside the state directory.
        foreach (var service in Services)
        {
            Assert.Equal(Path.Combine(_state, "data"), (await EnvironmentAsync(model, service))["RagPlatform__DataDirectory"]);
        }
    }

    [Fact]
    public async Task The_servers_passwords_are_secret_parameters()
    {
        await using var model = await ModelAsync("Local");

        Assert.All(new[] { "messaging-password", "postgres-password", "cache-password" },
            name => Assert.True(Assert.IsType<ParameterResource>(Resource(model, name)).Secret, name));
    }

    [Fact]
    public async Task Qdrant_on_local_infrastructure_is_refused_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ModelAsync("Local", "--RagPlatform:VectorBackend=qdrant"));

        Assert.Contains("RagPlatform:VectorBackend=qdrant", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_setting_stops_the_AppHost_naming_the_key()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ModelAsync("Local", "--RagPlatform:EmbeddingWorkers=0"));

        Assert.Contains("RagPlatform:EmbeddingWorkers", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<IDistributedApplicationTestingBuilder> ModelAsync(string infrastructure, params string[] more) =>
        await DistributedApplicationTestingBuilder.CreateAsync<Projects.RagPlatform_AppHost>(
            ["--RagPlatform:Infrastructure=" + infrastructure, "--RagPlatform:StateDirectory=" + _state, .. more]);

    private static IResource Resource(IDistributedApplicationTestingBuilder model, string name) => model.Resources.Single(r => r.Name == name);

    private static List<string> ConnectionStringResources(IDistributedApplicationTestingBuilder model) =>
        model.Resources.OfType<IResourceWithConnectionString>().Where(r => r is not ParameterResource).Select(r => r.Name).Order(StringComparer.Ordinal).ToList();

    private static string Expression(IDistributedApplicationTestingBuilder model, string name) =>
        ((IResourceWithConnectionString)Resource(model, name)).ConnectionStringExpression.ValueExpression;

    /// <summary>A service's environment as it would be published: references as expressions, not resolved values.</summary>
    /// <remarks>The one-call form Aspire marks obsolete in favour of ExecutionConfigurationBuilder, which needs a logger and an
    /// execution context to say the same.</remarks>
    private static async Task<Dictionary<string, string>> EnvironmentAsync(IDistributedApplicationTestingBuilder model, string service)
    {
#pragma warning disable CS0618
        return await ((IResourceWithEnvironment)Resource(model, service)).GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Publish);
#pragma warning restore CS0618
    }
}
