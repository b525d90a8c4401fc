using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace RagPlatform.Plugins.Faiss.Tests;

/// <summary>
/// Just enough <see cref="IConfiguration"/> over flat "A:B" keys for the options binder, so the plugin
/// tests need no configuration provider package.
/// </summary>
internal sealed class DictionaryConfiguration(IReadOnlyDictionary<string, string?> values, string path = "") : IConfigurationSection
{
    private readonly Dictionary<string, string?> _values = new(values, StringComparer.OrdinalIgnoreCase);

    public string Key => path.Split(':')[^1];

    public string Path => path;

    public string? Value
    {
        get => _values.GetValueOrDefault(path);
        set => throw new NotSupportedException();
    }

    public string? this[string key]
    {
        get => _values.GetValueOrDefault(Child(key));
        set => throw new NotSupportedException();
    }

    public IConfigurationSection GetSection(string key) => new DictionaryConfiguration(_values, Child(key));

    public IEnumerable<IConfigurationSection> GetChildren()
    {
        var prefix = path.Length == 0 ? string.Empty : path + ":";
        return _values.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && k.Length > prefix.Length)
            .Select(k => k[prefix.Length..].Split(':')[0])
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(GetSection)
            .ToList();
    }

    public IChangeToken GetReloadToken() => NeverChanges.Instance;

    private string Child(string key) => path.Length == 0 ? key : path + ":" + key;

    private sealed class NeverChanges : IChangeToken, IDisposable
    {
        public static readonly NeverChanges Instance = new();

        public bool HasChanged => false;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => this;

        public void Dispose()
        {
        }
    }
}
