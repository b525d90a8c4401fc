using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Core.Logging;

/// <summary>
/// Copies every log line of the process to <c>$RAGPLATFORM_LOG_CAPTURE_DIR/&lt;process&gt;-&lt;pid&gt;.log</c> when
/// that variable is set. The test suite sets it for its whole run and then scans every captured line for
/// secrets (scripts/scan-secrets.sh): what no log line shows in tests, the console and OTLP sinks do not show
/// either, since they format the same messages. Off (and free) otherwise.
/// </summary>
public static class LogCapture
{
    public const string DirectoryVariable = "RAGPLATFORM_LOG_CAPTURE_DIR";

    public static IHostApplicationBuilder AddLogCapture(this IHostApplicationBuilder builder)
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory)
        {
            builder.Logging.AddProvider(CaptureFileProvider.For(directory));
            // Information and up even where the host logs only warnings (the tests do): more lines, more checked.
            builder.Logging.AddFilter<CaptureFileProvider>(null, LogLevel.Information);
        }

        return builder;
    }

    /// <summary>One file per process, shared by every host the process builds (test servers build many).</summary>
    private sealed class CaptureFileProvider : ILoggerProvider
    {
        private static readonly ConcurrentDictionary<string, CaptureFileProvider> Providers = new(StringComparer.Ordinal);
        private readonly StreamWriter _writer;
        private readonly Lock _gate = new();

        private CaptureFileProvider(string path)
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }

        public static CaptureFileProvider For(string directory)
        {
            Directory.CreateDirectory(directory);
            using var process = Process.GetCurrentProcess();
            var path = Path.Combine(directory, $"{process.ProcessName}-{Environment.ProcessId}.log");
            return Providers.GetOrAdd(path, p => new CaptureFileProvider(p));
        }

        public ILogger CreateLogger(string categoryName) => new CaptureLogger(this, categoryName);

        // Shared for the life of the process: a disposed host must not close the file under the others.
        public void Dispose()
        {
        }

        private void Write(string line)
        {
            lock (_gate)
            {
                _writer.WriteLine(line);
            }
        }

        private sealed class CaptureLogger(CaptureFileProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var message = formatter(state, exception);
                provider.Write($"{DateTimeOffset.UtcNow:O} {logLevel} {category}: {message}{(exception is null ? "" : " | " + exception)}");
            }
        }
    }
}
