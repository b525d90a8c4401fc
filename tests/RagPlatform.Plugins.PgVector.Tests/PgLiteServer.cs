using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace RagPlatform.Plugins.PgVector.Tests;

/// <summary>
/// A real Postgres 17.5 + pgvector 0.8.0 (PGlite in WASM) served on 127.0.0.1 by scripts/servers/pglite.mjs,
/// installed by scripts/setup/40-pglite.sh. Started on a free port; stopped by its PID, also when a test fails.
/// PGlite runs one query at a time, so clients use a pool of one connection.
/// </summary>
public sealed class PgLiteServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private readonly string? _dataDirectory;
    private Process? _process;

    private PgLiteServer(string? dataDirectory) => _dataDirectory = dataDirectory;

    public int Port { get; private set; }

    /// <summary>Npgsql connection string: one pooled connection (PGlite serves one client at a time), a password because Npgsql wants one.</summary>
    public string ConnectionString => string.Create(
        CultureInfo.InvariantCulture,
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password=postgres;Database=postgres;Maximum Pool Size=1;SSL Mode=Disable;Timeout=60;Command Timeout=300");

    public static string RepoRoot { get; } = typeof(PgLiteServer).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RagRepoRoot").Value!;

    /// <summary>Starts a server; with <paramref name="dataDirectory"/> the database survives a restart, else it lives in memory.</summary>
    public static async Task<PgLiteServer> StartAsync(string? dataDirectory = null)
    {
        var server = new PgLiteServer(dataDirectory);
        await server.StartProcessAsync(port: 0);
        return server;
    }

    /// <summary>Stops the server and starts it again on the same port (and data directory).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync(Port);
    }

    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StartProcessAsync(int port)
    {
        var modules = Path.Combine(RepoRoot, "artifacts", "pglite");
        if (!File.Exists(Path.Combine(modules, "node_modules", "@electric-sql", "pglite", "package.json")))
        {
            throw new InvalidOperationException($"PGlite is not installed in {modules}; run: source scripts/lib/apt.sh && source scripts/setup/40-pglite.sh");
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(RepoRoot, "scripts", "servers", "pglite.mjs"),
            "--modules", modules,
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--max-connections", "4",
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (_dataDirectory is not null)
        {
            start.ArgumentList.Add("--db");
            start.ArgumentList.Add(_dataDirectory);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        _process = process;
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException("The PGlite server exited before listening: " + errors);
                if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
                {
                    Port = int.Parse(line["LISTENING ".Length..], CultureInfo.InvariantCulture);
                    break;
                }
            }
        }
        catch
        {
            await StopAsync();
            throw;
        }

        // Keep draining stdout so the server never blocks on a full pipe.
        _ = Task.Run(async () =>
        {
            try
            {
                while (await process.StandardOutput.ReadLineAsync() is not null)
                {
                }
            }
            catch (InvalidOperationException)
            {
                // The process was disposed.
            }
        });
    }
}
