using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Plugins.OpenAI.Tests;

internal static class TestProviders
{
    public const string KeyOne = "sk-test-aaaaaaaaaaaaaaaaaaaa-one";
    public const string KeyTwo = "sk-test-bbbbbbbbbbbbbbbbbbbb-two";
    public const string KeyThree = "sk-test-cccccccccccccccccccc-three";

    /// <summary>Options for the fault server with quick retries, so fault tests stay short.</summary>
    public static OpenAIEmbedderOptions Options(FaultServer server, params string[] keys) => new()
    {
        Model = "test-embedding",
        Dimensions = 64,
        Endpoint = server.Endpoint,
        ApiKeys = keys.Length == 0 ? [KeyOne] : [.. keys],
        InitialBackoffSeconds = 0.05,
        MaxBackoffSeconds = 0.2,
        RequestTimeoutSeconds = 5,
        MaxRetrySeconds = 30,
    };

    public static OpenAIEmbeddingProvider Create(FaultServer server, Action<OpenAIEmbedderOptions>? configure = null, ILogger? logger = null)
    {
        var options = Options(server);
        configure?.Invoke(options);
        return new OpenAIEmbeddingProvider(options, logger);
    }
}

/// <summary>Keeps every formatted log line, to prove what is and is not logged.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
    }
}
