using RagPlatform.Tests.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Pinecone.Tests;

/// <summary>A loopback server running <see cref="PineconeEmulator"/> (control and data plane), and backends pointed at it.</summary>
internal sealed class PineconeContractServer : IAsyncDisposable
{
    public const string ApiKey = "pcsk_test_4e8a1f-never-log-me";

    private PineconeContractServer(LoopbackHttpServer server, PineconeEmulator emulator)
    {
        Server = server;
        Emulator = emulator;
    }

    public LoopbackHttpServer Server { get; }

    public PineconeEmulator Emulator { get; }

    /// <summary>The waits between attempts the backends of <see cref="CreateBackend"/> asked for (they do not sleep).</summary>
    public RecordingTimeProvider Clock { get; } = new();

    public string ConnectionString => $"Endpoint={Server.BaseAddress.ToString().TrimEnd('/')};Key={ApiKey}";

    public static async Task<PineconeContractServer> StartAsync()
    {
        PineconeEmulator? emulator = null;
        var server = await LoopbackHttpServer.StartAsync(request => emulator!.Handle(request));
        emulator = new PineconeEmulator { ApiKey = ApiKey, Authority = server.BaseAddress.Authority };
        return new PineconeContractServer(server, emulator);
    }

    /// <summary>Options for the emulator: its index hosts speak http, and readiness is polled without pausing.</summary>
    public static PineconeOptions Options() => new() { IndexHostScheme = "http", IndexReadyPollMilliseconds = 0 };

    public PineconeVectorBackend CreateBackend(PineconeOptions? options = null, ILogger? logger = null) =>
        new(
            options ?? Options(),
            ServiceConnectionString.Parse(ConnectionString),
            logger ?? NullLogger.Instance,
            http: null,
            time: Clock);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
