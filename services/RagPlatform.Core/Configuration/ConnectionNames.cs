namespace RagPlatform.Core.Configuration;

/// <summary>
/// The connection names the services read (<c>ConnectionStrings:&lt;name&gt;</c>, i.e. the
/// <c>ConnectionStrings__&lt;name&gt;</c> variables Aspire injects). They are the AppHost's resource names;
/// tests/RagPlatform.AppHost.Consistency.Tests checks AppHost/RagPlatform.AppHost/Program.cs against them.
/// </summary>
public static class ConnectionNames
{
    /// <summary>RabbitMQ, as an amqp:// URI.</summary>
    public const string Messaging = "messaging";

    /// <summary>The Postgres database (Npgsql keyword format).</summary>
    public const string Metadata = "ragdb";

    /// <summary>Redis (StackExchange.Redis format, <c>host:port,password=…[,ssl=true]</c>).</summary>
    public const string Cache = "cache";

    /// <summary>Qdrant's gRPC endpoint, <c>Endpoint=http://host:port;Key=…</c>: what the qdrant plugin (Qdrant.Client) reads.</summary>
    public const string Qdrant = "qdrant";

    /// <summary>Qdrant's REST endpoint, which Aspire injects beside the gRPC one as <c>&lt;name&gt;_http</c> (the plugin does not use it).</summary>
    public const string QdrantHttp = Qdrant + "_http";

    /// <summary>Every resource name the AppHost must declare for the services to find their servers.</summary>
    public static IReadOnlyList<string> AppHostResources { get; } = [Messaging, Metadata, Cache, Qdrant];
}
