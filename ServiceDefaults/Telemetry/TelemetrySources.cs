namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The ActivitySources and Meters beyond what the ASP.NET Core, HttpClient and runtime instrumentation packages
/// subscribe to: MassTransit's (send, receive and consume spans carry the trace from the ingestion service through
/// RabbitMQ to the embedding worker) and ours.
/// </summary>
public static class TelemetrySources
{
    /// <summary>Ours: RagPlatform.Ingestion, RagPlatform.Embedding, RagPlatform.Query and any plugin's.</summary>
    public const string RagPlatform = "RagPlatform.*";

    /// <summary>MassTransit names both its ActivitySource and its Meter "MassTransit".</summary>
    public const string MassTransit = "MassTransit";

    public static readonly IReadOnlyList<string> ActivitySources = [MassTransit, RagPlatform];

    public static readonly IReadOnlyList<string> Meters = [MassTransit, RagPlatform];
}
