using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace RagPlatform.Plugins.Onnx;

/// <summary>The device setting: where a session's operators run.</summary>
public enum OnnxDevice
{
    /// <summary>CUDA when this ONNX Runtime build offers it and it starts; otherwise the CPU, with the reason logged.</summary>
    Auto,

    /// <summary>The CPU execution provider only.</summary>
    Cpu,

    /// <summary>The CUDA execution provider; failing that, the model does not load (a start-up error naming the setting).</summary>
    Cuda,
}

/// <summary>
/// Turns the device setting into session options. ONNX Runtime reports which execution providers its native
/// library was built with (<see cref="OrtEnv.GetAvailableProviders"/>): the CPU package lists only
/// CPUExecutionProvider, the Gpu.Linux package also CUDAExecutionProvider. Appending the CUDA provider can still
/// fail where the build has it (no driver, no CUDA/cuDNN libraries, no such device): that error is ONNX Runtime's.
/// </summary>
internal static class OnnxDevices
{
    public const string CudaProvider = "CUDAExecutionProvider";

    public static OnnxDevice? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "auto" or "" or null => OnnxDevice.Auto,
        "cpu" => OnnxDevice.Cpu,
        "cuda" or "gpu" => OnnxDevice.Cuda,
        _ => null,
    };

    /// <summary>The execution providers this process's ONNX Runtime library was built with.</summary>
    public static IReadOnlyList<string> AvailableProviders() => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>
    /// Session options for the model's device: "cuda:N" or "cpu" comes back with them. <c>auto</c> that ends on the
    /// CPU logs why; <c>cuda</c> that cannot have CUDA throws, naming <paramref name="settingKey"/>.
    /// </summary>
    public static (SessionOptions Options, string Device) CreateSessionOptions(
        OnnxDevice device, int deviceId, int intraOpThreads, string settingKey, ILogger logger, IReadOnlyList<string>? availableProviders = null)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,

            // One batch runs at a time per model; its operators are parallelised by the intra-op pool.
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Math.Max(0, intraOpThreads),
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        if (device == OnnxDevice.Cpu)
        {
            return (options, "cpu");
        }

        var available = availableProviders ?? AvailableProviders();
        string? reason = null;
        if (!available.Contains(CudaProvider, StringComparer.Ordinal))
        {
            reason = $"this ONNX Runtime build has no {CudaProvider} (it offers {string.Join(", ", available)}); " +
                "build with -p:OnnxRuntimeGpu=true for the Microsoft.ML.OnnxRuntime.Gpu.Linux package";
        }
        else
        {
            try
            {
                // The V2 provider options go through the API table, which every build has (a CPU build answers with
                // an error status); the legacy per-provider export exists only in CUDA builds.
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                options.AppendExecutionProvider_CUDA(cuda);
                return (options, $"cuda:{deviceId}");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                reason = $"the CUDA execution provider did not start on device {deviceId}: {e.Message}";
            }
        }

        if (device == OnnxDevice.Cuda)
        {
            options.Dispose();
            throw new InvalidOperationException($"{settingKey} is \"cuda\" but {reason}. Set it to \"auto\" or \"cpu\" to run on the CPU.");
        }

        logger.LogInformation("{Setting} is auto: running on the CPU because {Reason}", settingKey, reason);
        return (options, "cpu");
    }
}
