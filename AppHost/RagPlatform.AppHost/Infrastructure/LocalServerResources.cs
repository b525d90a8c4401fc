using Aspire.Hosting.ApplicationModel;

namespace RagPlatform.AppHost.Infrastructure;

/// <summary>
/// A server from the machine's own packages run as an executable resource (a plain process under DCP, no container),
/// with the connection string its container twin would have, so <c>WithReference</c> injects the same
/// <c>ConnectionStrings__&lt;name&gt;</c>.
/// </summary>
public sealed class LocalServerResource : ExecutableResource, IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";
    private readonly Func<LocalServerResource, ReferenceExpression> _connectionString;

    public LocalServerResource(string name, string command, string workingDirectory, Func<LocalServerResource, ReferenceExpression> connectionString)
        : base(name, command, workingDirectory)
    {
        _connectionString = connectionString;
        PrimaryEndpoint = new EndpointReference(this, PrimaryEndpointName);
    }

    /// <summary>The server's listening endpoint: a DCP-allocated port on loopback, served directly (no proxy).</summary>
    public EndpointReference PrimaryEndpoint { get; }

    public ReferenceExpression ConnectionStringExpression => _connectionString(this);
}

/// <summary>A database of a <see cref="LocalServerResource"/> PostgreSQL: its server's connection string and <c>Database=</c>.</summary>
public sealed class LocalDatabaseResource(string name, string databaseName, LocalServerResource parent)
    : Resource(name), IResourceWithParent<LocalServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public LocalServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
