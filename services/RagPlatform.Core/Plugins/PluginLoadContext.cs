using System.Reflection;
using System.Runtime.Loader;

namespace RagPlatform.Core.Plugins;

/// <summary>
/// One isolated load context per plugin. The plugin's own dependencies (a database driver, a native
/// runtime) resolve from its folder, so they cannot clash with the host's versions. Only the contract
/// assemblies are shared with the host, because their types must be identical on both sides.
/// </summary>
internal sealed class PluginLoadContext(string mainAssemblyPath)
    : AssemblyLoadContext(Path.GetFileNameWithoutExtension(mainAssemblyPath), isCollectible: false)
{
    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    public string MainAssemblyPath { get; } = mainAssemblyPath;

    internal static bool IsShared(AssemblyName name)
    {
        var simple = name.Name ?? string.Empty;
        return simple == "RagPlatform.Sdk"
            || simple.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal)
            // The SDK's retry policy (RemoteRetry) hands plugins Polly's types: one copy on both sides.
            || simple.StartsWith("Polly", StringComparison.Ordinal)
            || simple == "System.Numerics.Tensors";
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (IsShared(assemblyName))
        {
            // Null defers to the default context: the host's copy.
            return null;
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
