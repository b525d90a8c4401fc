using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace RagPlatform.AppHost.Infrastructure;

/// <summary>
/// The servers from the machine's own packages (Debian's RabbitMQ, PostgreSQL 15, Redis 7) as executable resources, for
/// machines without a container runtime: DCP runs them as plain processes on loopback ports it allocates, and stops
/// them with the AppHost. Same resource names and connection strings as the containers; each has a health check that
/// really talks to it. They are started by <c>scripts/servers/*.sh run</c>, which keep the data in the state directory
/// and put passwords in files only the server reads.
/// </summary>
public static class LocalInfrastructure
{
    public static RagInfrastructure AddLocalInfrastructure(
        this IDistributedApplicationBuilder builder, string vectorBackend, InfrastructureSecrets secrets, string stateDirectory)
    {
        var scripts = ServerScripts(builder);
        RequireServers();
        Directory.CreateDirectory(stateDirectory);

        // RabbitMQ's node would start an epmd of its own that outlives everything: this one is the AppHost's.
        var epmd = builder.AddExecutable(ResourceNames.Epmd, "/usr/bin/epmd", stateDirectory, "-address", "127.0.0.1")
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false)
            .WithIconName("PlugConnected");
        epmd.WithEnvironment(context => context.EnvironmentVariables["ERL_EPMD_PORT"] = epmd.GetEndpoint("tcp").Property(EndpointProperty.TargetPort))
            .WithProbe(builder, (resource, _) => PortAnswersAsync(resource.GetEndpoint("tcp")));

        var messaging = builder.AddServer(ResourceNames.Messaging, Path.Combine(scripts, "rabbitmq.sh"), stateDirectory,
                server => ReferenceExpression.Create(
                    $"amqp://guest:{secrets.MessagingPassword.Resource}@{server.PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}"))
            .WithEndpoint(name: "dist", scheme: "tcp", isProxied: false)
            .WithHttpEndpoint(name: "management", isProxied: false)
            .WithEnvironment(context =>
            {
                var server = (LocalServerResource)context.Resource;
                context.EnvironmentVariables["RABBITMQ_NODE_PORT"] = server.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["RABBITMQ_DIST_PORT"] = server.GetEndpoint("dist").Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["RABBITMQ_MANAGEMENT_PORT"] = server.GetEndpoint("management").Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["ERL_EPMD_PORT"] = epmd.GetEndpoint("tcp").Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["RABBITMQ_DEFAULT_USER"] = "guest";
                context.EnvironmentVariables["RABBITMQ_DEFAULT_PASS"] = secrets.MessagingPassword.Resource;
            })
            .WithUrlForEndpoint("management", url => url.DisplayText = "RabbitMQ management")
            .WaitFor(epmd)
            .WithProbe(builder, async (server, cancellationToken) =>
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri((await server.ConnectionStringExpression.GetValueAsync(cancellationToken))!),
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
                    AutomaticRecoveryEnabled = false,
                };
                await using var connection = await factory.CreateConnectionAsync(cancellationToken);
                await connection.CloseAsync(cancellationToken);
            });

        var postgres = builder.AddServer(ResourceNames.Postgres, Path.Combine(scripts, "postgres.sh"), stateDirectory,
                server => ReferenceExpression.Create(
                    $"Host={server.PrimaryEndpoint.Property(EndpointProperty.Host)};Port={server.PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres;Password={secrets.PostgresPassword.Resource}"))
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables["PGPORT"] = ((LocalServerResource)context.Resource).PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["POSTGRES_PASSWORD"] = secrets.PostgresPassword.Resource;
            })
            .WithIconName("DatabaseMultiple")
            .WithProbe(builder, (server, cancellationToken) => QueryAsync(server, "postgres", cancellationToken));
        var database = builder.AddResource(new LocalDatabaseResource(ResourceNames.Database, ResourceNames.Database, postgres.Resource))
            .WithProbe(builder, (database, cancellationToken) => QueryAsync(database.Parent, database.DatabaseName, cancellationToken));
        // As Aspire's PostgreSQL integration does: the database exists once the server is ready. DCP runs no process for
        // it, and Aspire carries a parent's state to its children for containers only: its state follows the server here.
        builder.Eventing.Subscribe<ResourceReadyEvent>(postgres.Resource, async (@event, cancellationToken) =>
        {
            await CreateDatabaseAsync(postgres.Resource, database.Resource.DatabaseName, cancellationToken);
            await @event.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database.Resource, snapshot => snapshot with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                StopTimeStamp = null,
            });
        });
        builder.Eventing.Subscribe<ResourceStoppedEvent>(postgres.Resource, (@event, _) =>
            @event.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database.Resource, snapshot => snapshot with
            {
                State = KnownResourceStates.Exited,
                StopTimeStamp = DateTime.UtcNow,
            }));

        var cache = builder.AddServer(ResourceNames.Cache, Path.Combine(scripts, "redis.sh"), stateDirectory,
                server => ReferenceExpression.Create(
                    $"{server.PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={secrets.CachePassword.Resource}"))
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables["REDIS_PORT"] = ((LocalServerResource)context.Resource).PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["REDIS_PASSWORD"] = secrets.CachePassword.Resource;
            })
            .WithIconName("Memory")
            .WithProbe(builder, async (server, cancellationToken) =>
            {
                var options = ConfigurationOptions.Parse((await server.ConnectionStringExpression.GetValueAsync(cancellationToken))!);
                options.AbortOnConnectFail = true;
                options.ConnectTimeout = 3_000;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
            });

        return new RagInfrastructure(messaging, database, cache, Qdrant: null, vectorBackend, Path.Combine(stateDirectory, "data"));
    }

    /// <summary>A server run by <c>scripts/servers/&lt;name&gt;.sh run &lt;state&gt;/&lt;resource&gt;</c> on a DCP-allocated loopback port.</summary>
    private static IResourceBuilder<LocalServerResource> AddServer(
        this IDistributedApplicationBuilder builder, string name, string script, string stateDirectory, Func<LocalServerResource, ReferenceExpression> connectionString) =>
        builder.AddResource(new LocalServerResource(name, script, stateDirectory, connectionString))
            .WithArgs("run", Path.Combine(stateDirectory, name))
            .WithEndpoint(name: LocalServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false);

    /// <summary>
    /// A health check that talks to the resource (<paramref name="probe"/> throws when it cannot): what makes the
    /// resource Healthy in the dashboard and releases whatever <c>WaitFor</c>s it.
    /// </summary>
    private static IResourceBuilder<T> WithProbe<T>(this IResourceBuilder<T> resource, IDistributedApplicationBuilder builder, Func<T, CancellationToken, Task> probe)
        where T : IResource
    {
        var key = resource.Resource.Name + "_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new ProbeHealthCheck(ct => probe(resource.Resource, ct)), failureStatus: null, tags: null));
        return resource.WithHealthCheck(key);
    }

    private static async Task<NpgsqlConnection> OpenAsync(LocalServerResource server, string database, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder((await server.ConnectionStringExpression.GetValueAsync(cancellationToken))!)
        {
            Database = database,
            Timeout = 3,
            Pooling = false,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task CreateDatabaseAsync(LocalServerResource server, string databaseName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(server, "postgres", cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = databaseName } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task QueryAsync(LocalServerResource server, string database, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(server, database, cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task PortAnswersAsync(EndpointReference endpoint)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await client.ConnectAsync("127.0.0.1", endpoint.Port, timeout.Token);
    }

    private static string ServerScripts(IDistributedApplicationBuilder builder)
    {
        var scripts = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "scripts", "servers"));
        return File.Exists(Path.Combine(scripts, "postgres.sh"))
            ? scripts
            : throw new DistributedApplicationException($"Local infrastructure runs the servers with scripts/servers/*.sh, not found at {scripts}.");
    }

    /// <summary>Refuses to start without the servers' packages, saying which to install.</summary>
    private static void RequireServers()
    {
        var missing = new List<string>();
        if (!File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server") || !File.Exists("/usr/bin/epmd"))
        {
            missing.Add("rabbitmq-server");
        }

        if (!Directory.Exists("/usr/lib/postgresql") || !Directory.EnumerateFiles("/usr/lib/postgresql", "postgres", SearchOption.AllDirectories).Any())
        {
            missing.Add("postgresql");
        }

        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "redis-server"))))
        {
            missing.Add("redis-server");
        }

        if (missing.Count > 0)
        {
            throw new DistributedApplicationException(
                $"Local infrastructure runs the machine's own servers, and {string.Join(", ", missing)} is not installed: " +
                $"sudo apt-get install {string.Join(' ', missing)} (scripts/setup/20-servers.sh does it), or run with " +
                "--RagPlatform:Infrastructure=Containers where a container runtime is available.");
        }
    }

    private sealed class ProbeHealthCheck(Func<CancellationToken, Task> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await probe(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The type and message only: connection errors name the endpoint, never the password.
                return new HealthCheckResult(context.Registration.FailureStatus, $"{ex.GetType().Name}: {ex.Message}");
            }
        }
    }
}
