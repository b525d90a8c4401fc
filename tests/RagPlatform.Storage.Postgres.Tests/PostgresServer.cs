using System.Diagnostics;
using Npgsql;

namespace RagPlatform.Storage.Postgres.Tests;

/// <summary>
/// A real PostgreSQL for the whole test run, started by <c>scripts/servers/postgres.sh</c> in a fresh state
/// directory and stopped by the PID in its postmaster.pid when the tests end, failed or not.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), "rag-pg-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The connection string the script printed (Aspire's format).</summary>
    public string ConnectionString { get; private set; } = null!;

    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "scripts", "servers", "postgres.sh")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("scripts/servers/postgres.sh not found above " + AppContext.BaseDirectory);
        }
    }

    public async Task InitializeAsync()
    {
        var output = await RunScriptAsync("start");
        const string prefix = "ConnectionStrings__ragdb=";
        var line = output.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        ConnectionString = line[prefix.Length..].Trim();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await RunScriptAsync("stop");
        }
        finally
        {
            // Whatever the script managed: the server is ours, stop it by its PID if it is still there.
            var pidFile = Path.Combine(_stateDirectory, "data", "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out var pid))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    await process.WaitForExitAsync();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }

            if (Directory.Exists(_stateDirectory))
            {
                Directory.Delete(_stateDirectory, recursive: true);
            }
        }
    }

    /// <summary>A data source of its own: to the database, another process.</summary>
    public NpgsqlDataSource CreateDataSource(string? database = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (database is not null)
        {
            builder.Database = database;
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>A fresh, empty database (for migration tests).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var dataSource = CreateDataSource();
        await using var command = dataSource.CreateCommand($"CREATE DATABASE {name}");
        await command.ExecuteNonQueryAsync();
        return name;
    }

    private async Task<string> RunScriptAsync(string verb)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "scripts", "servers", "postgres.sh"));
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(_stateDirectory);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"postgres.sh {verb} failed ({process.ExitCode}): {await stderr}");
        }

        return await stdout;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
