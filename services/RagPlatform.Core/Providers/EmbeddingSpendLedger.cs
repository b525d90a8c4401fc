using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Providers;

/// <summary>Tokens and cost charged to one provider in one month.</summary>
public sealed class ProviderSpend
{
    public long Tokens { get; set; }

    public long Calls { get; set; }

    public decimal Cost { get; set; }
}

/// <summary>
/// What paid embedding providers have cost, per calendar month (UTC) and provider, and the monthly budget check.
/// Kept in a small JSON file, <c>{DataDirectory}/usage/embedding-spend.json</c>, rather than the metadata store:
/// it is written from the hot embedding path, must survive restarts and must not need a schema migration. Each
/// process adds its own increments to the file under an exclusive lock file (read, add, write to a temporary
/// file, rename), so processes sharing a data directory add up instead of overwriting each other. It is saved at
/// most once a second and on shutdown: a crash loses at most the last second of spend.
/// </summary>
public sealed class EmbeddingSpendLedger : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly EmbeddingBudgetOptions _budget;
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Dictionary<string, Dictionary<string, ProviderSpend>> _saved;
    private Dictionary<string, Dictionary<string, ProviderSpend>> _unsaved = [];
    private DateTimeOffset _lastSave;

    public EmbeddingSpendLedger(IOptions<RagPlatformOptions> options, ILogger<EmbeddingSpendLedger>? logger = null, TimeProvider? time = null)
    {
        _budget = options.Value.Embedding.Budget;
        _path = Path.Combine(options.Value.ResolveDataDirectory(), "usage", "embedding-spend.json");
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _saved = Load();
        _lastSave = _time.GetUtcNow();
    }

    public EmbeddingBudgetOptions Budget => _budget;

    public string CurrentMonth => _time.GetUtcNow().ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public string FilePath => _path;

    /// <summary>This month's spend over all providers, saved and not yet saved.</summary>
    public decimal SpentThisMonth
    {
        get
        {
            lock (_gate)
            {
                var month = CurrentMonth;
                return Sum(_saved, month) + Sum(_unsaved, month);
            }
        }
    }

    public bool IsExceeded => _budget.MonthlyLimit > 0 && SpentThisMonth >= _budget.MonthlyLimit;

    /// <summary>Why a paid call for <paramref name="purpose"/> is refused now, or null when it may go.</summary>
    public string? Refusal(EmbeddingPurpose purpose)
    {
        if (!IsExceeded || (purpose == EmbeddingPurpose.Query && _budget.AllowQueriesOverBudget))
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"the monthly embedding budget of {_budget.MonthlyLimit:0.00} {_budget.Currency} is spent ({SpentThisMonth:0.00####} {_budget.Currency} in {CurrentMonth}); raise RagPlatform:Embedding:Budget:MonthlyLimit, wait for next month, or embed with a local provider");
    }

    /// <summary>The provider a new collection gets: the configured default, or the local one once the budget
    /// is spent under <see cref="BudgetPolicy.LocalForNewCollections"/> and the default is paid.</summary>
    public string ProviderForNewCollection(string configured, decimal configuredPrice) =>
        _budget.WhenExceeded == BudgetPolicy.LocalForNewCollections && configuredPrice > 0 && IsExceeded ? _budget.LocalProvider : configured;

    public void Record(string provider, long tokens, decimal pricePer1KTokens)
    {
        if (tokens <= 0 && pricePer1KTokens <= 0)
        {
            return;
        }

        lock (_gate)
        {
            var entry = Entry(_unsaved, CurrentMonth, provider);
            entry.Tokens += Math.Max(0, tokens);
            entry.Calls++;
            entry.Cost += Math.Max(0, tokens) / 1000m * pricePer1KTokens;
            if (_time.GetUtcNow() - _lastSave >= TimeSpan.FromSeconds(1))
            {
                SaveLocked();
            }
        }
    }

    /// <summary>This month's spend per provider (saved and unsaved).</summary>
    public IReadOnlyDictionary<string, ProviderSpend> ThisMonth()
    {
        lock (_gate)
        {
            var month = CurrentMonth;
            var merged = new Dictionary<string, ProviderSpend>(StringComparer.OrdinalIgnoreCase);
            foreach (var source in new[] { _saved, _unsaved })
            {
                if (source.TryGetValue(month, out var providers))
                {
                    foreach (var (name, spend) in providers)
                    {
                        var entry = merged.TryGetValue(name, out var e) ? e : merged[name] = new ProviderSpend();
                        entry.Tokens += spend.Tokens;
                        entry.Calls += spend.Calls;
                        entry.Cost += spend.Cost;
                    }
                }
            }

            return merged;
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            SaveLocked();
        }
    }

    public void Dispose() => Flush();

    private void SaveLocked()
    {
        _lastSave = _time.GetUtcNow();
        if (_unsaved.Count == 0)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            using (AcquireFileLock())
            {
                var current = Load();
                foreach (var (month, providers) in _unsaved)
                {
                    foreach (var (name, spend) in providers)
                    {
                        var entry = Entry(current, month, name);
                        entry.Tokens += spend.Tokens;
                        entry.Calls += spend.Calls;
                        entry.Cost += spend.Cost;
                    }
                }

                var temporary = _path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
                File.WriteAllText(temporary, JsonSerializer.Serialize(current, Json));
                File.Move(temporary, _path, overwrite: true);
                _saved = current;
                _unsaved = [];
            }
        }
        catch (IOException ex)
        {
            // Kept in memory and tried again on the next save.
            _logger.LogWarning(ex, "Embedding spend could not be saved to {Path}", _path);
        }
    }

    private FileStream AcquireFileLock()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 50)
            {
                Thread.Sleep(20);
            }
        }
    }

    private Dictionary<string, Dictionary<string, ProviderSpend>> Load()
    {
        try
        {
            if (File.Exists(_path))
            {
                var loaded = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, ProviderSpend>>>(File.ReadAllText(_path), Json);
                if (loaded is not null)
                {
                    return loaded.ToDictionary(
                        m => m.Key, m => new Dictionary<string, ProviderSpend>(m.Value, StringComparer.OrdinalIgnoreCase), StringComparer.Ordinal);
                }
            }
        }
        catch (JsonException ex)
        {
            _logger.LogError(ex, "Embedding spend file {Path} is not valid JSON; starting from zero (the file is replaced on the next save)", _path);
        }

        return new Dictionary<string, Dictionary<string, ProviderSpend>>(StringComparer.Ordinal);
    }

    private static ProviderSpend Entry(Dictionary<string, Dictionary<string, ProviderSpend>> book, string month, string provider)
    {
        if (!book.TryGetValue(month, out var providers))
        {
            book[month] = providers = new Dictionary<string, ProviderSpend>(StringComparer.OrdinalIgnoreCase);
        }

        return providers.TryGetValue(provider, out var entry) ? entry : providers[provider] = new ProviderSpend();
    }

    private static decimal Sum(Dictionary<string, Dictionary<string, ProviderSpend>> book, string month) =>
        book.TryGetValue(month, out var providers) ? providers.Values.Sum(p => p.Cost) : 0m;
}
