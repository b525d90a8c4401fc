using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk.Conformance.Http;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>A loopback server running <see cref="QdrantEmulator"/>, and backends pointed at it.</summary>
internal sealed class QdrantContractServer : IAsyncDisposable
{
    public const string ApiKey = "test-key-3f9c2b7e-never-log-me";

    private QdrantContractServer(LoopbackHttpServer server, QdrantEmulator emulator)
    {
        Server = server;
        Emulator = emulator;
    }

    public LoopbackHttpServer Server { get; }

    public QdrantEmulator Emulator { get; }

    /// <summary>Retry waits the backends asked for (they do not really sleep).</summary>
    public List<TimeSpan> Delays { get; } = [];

    public string ConnectionString => $"Endpoint={Server.BaseAddress.ToString().TrimEnd('/')};Key={ApiKey}";

    public static async Task<QdrantContractServer> StartAsync()
    {
        var emulator = new QdrantEmulator { ApiKey = ApiKey };
        return new QdrantContractServer(await LoopbackHttpServer.StartAsync(emulator.Handle), emulator);
    }

    public QdrantVectorBackend CreateBackend(QdrantOptions? options = null, ILogger? logger = null) =>
        new(
            options ?? new QdrantOptions(),
            ServiceConnectionString.Parse(ConnectionString),
            logger ?? NullLogger.Instance,
            handler: null,
            delay: (wait, _) =>
            {
                lock (Delays)
                {
                    Delays.Add(wait);
                }

                return Task.CompletedTask;
            });

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
