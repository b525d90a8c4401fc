namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The ActivitySources and Meters the services' telemetry comes from. Without the OpenTelemetry
/// instrumentation packages, we subscribe to what ASP.NET Core, HttpClient, the runtime and MassTransit
/// emit natively.
/// </summary>
public static class TelemetrySources
{
    /// <summary>Ours: RagPlatform.Ingestion, RagPlatform.Embedding, RagPlatform.Query and any plugin's.</summary>
    public const string RagPlatform = "RagPlatform.*";

    /// <summary>Trace sources: ASP.NET Core server spans, HttpClient client spans, MassTransit send/receive/consume.</summary>
    public static readonly IReadOnlyList<string> ActivitySources =
    [
        "Microsoft.AspNetCore",
        "System.Net.Http",
        "MassTransit",
        RagPlatform,
    ];

    /// <summary>Meters: ASP.NET Core hosting/Kestrel/routing, HttpClient, the runtime, MassTransit and ours.</summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http",
        "System.Net.NameResolution",
        "System.Runtime",
        "MassTransit",
        RagPlatform,
    ];
}
