using System.Runtime.InteropServices;

namespace RagPlatform.Plugins.Onnx.Interop;

/// <summary>
/// The entries of ONNX Runtime's <c>OrtApi</c> function table this provider calls. The table is an array of
/// function pointers whose order is fixed by onnxruntime_c_api.h (entries are only ever appended), so each
/// entry is read at its index. <see cref="OrtRuntime"/> checks the table with a status round trip before use.
/// </summary>
internal sealed unsafe class OrtApi
{
    /// <summary>The C API version requested from <c>OrtGetApiBase()->GetApi</c>: ONNX Runtime 1.30.</summary>
    public const uint ApiVersion = 30;

    // Indices into struct OrtApi (onnxruntime_c_api.h).
    private const int CreateStatusIndex = 0;
    private const int GetErrorCodeIndex = 1;
    private const int GetErrorMessageIndex = 2;
    private const int CreateEnvIndex = 3;
    private const int CreateSessionIndex = 7;
    private const int RunIndex = 9;
    private const int CreateSessionOptionsIndex = 10;
    private const int SetSessionGraphOptimizationLevelIndex = 23;
    private const int SetIntraOpNumThreadsIndex = 24;
    private const int SetInterOpNumThreadsIndex = 25;
    private const int SessionGetInputCountIndex = 30;
    private const int SessionGetOutputCountIndex = 31;
    private const int SessionGetInputTypeInfoIndex = 33;
    private const int SessionGetOutputTypeInfoIndex = 34;
    private const int SessionGetInputNameIndex = 36;
    private const int SessionGetOutputNameIndex = 37;
    private const int CreateTensorWithDataAsOrtValueIndex = 49;
    private const int GetTensorMutableDataIndex = 51;
    private const int CastTypeInfoToTensorInfoIndex = 55;
    private const int GetTensorElementTypeIndex = 60;
    private const int GetDimensionsCountIndex = 61;
    private const int GetDimensionsIndex = 62;
    private const int GetTensorTypeAndShapeIndex = 65;
    private const int CreateCpuMemoryInfoIndex = 69;
    private const int AllocatorFreeIndex = 76;
    private const int GetAllocatorWithDefaultOptionsIndex = 78;
    private const int ReleaseEnvIndex = 92;
    private const int ReleaseStatusIndex = 93;
    private const int ReleaseMemoryInfoIndex = 94;
    private const int ReleaseSessionIndex = 95;
    private const int ReleaseValueIndex = 96;
    private const int ReleaseTypeInfoIndex = 98;
    private const int ReleaseTensorTypeAndShapeInfoIndex = 99;
    private const int ReleaseSessionOptionsIndex = 100;

    public OrtApi(nint table)
    {
        var entries = (nint*)table;
        CreateStatus = (delegate* unmanaged<int, byte*, nint>)entries[CreateStatusIndex];
        GetErrorCode = (delegate* unmanaged<nint, int>)entries[GetErrorCodeIndex];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)entries[GetErrorMessageIndex];
        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)entries[CreateEnvIndex];
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)entries[CreateSessionIndex];
        Run = (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)entries[RunIndex];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)entries[CreateSessionOptionsIndex];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)entries[SetSessionGraphOptimizationLevelIndex];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)entries[SetIntraOpNumThreadsIndex];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)entries[SetInterOpNumThreadsIndex];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)entries[SessionGetInputCountIndex];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)entries[SessionGetOutputCountIndex];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)entries[SessionGetInputTypeInfoIndex];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)entries[SessionGetOutputTypeInfoIndex];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)entries[SessionGetInputNameIndex];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)entries[SessionGetOutputNameIndex];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)entries[CreateTensorWithDataAsOrtValueIndex];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)entries[GetTensorMutableDataIndex];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)entries[CastTypeInfoToTensorInfoIndex];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)entries[GetTensorElementTypeIndex];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)entries[GetDimensionsCountIndex];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)entries[GetDimensionsIndex];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)entries[GetTensorTypeAndShapeIndex];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)entries[CreateCpuMemoryInfoIndex];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)entries[AllocatorFreeIndex];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)entries[GetAllocatorWithDefaultOptionsIndex];
        ReleaseEnv = (delegate* unmanaged<nint, void>)entries[ReleaseEnvIndex];
        ReleaseStatus = (delegate* unmanaged<nint, void>)entries[ReleaseStatusIndex];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)entries[ReleaseMemoryInfoIndex];
        ReleaseSession = (delegate* unmanaged<nint, void>)entries[ReleaseSessionIndex];
        ReleaseValue = (delegate* unmanaged<nint, void>)entries[ReleaseValueIndex];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)entries[ReleaseTypeInfoIndex];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)entries[ReleaseTensorTypeAndShapeInfoIndex];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)entries[ReleaseSessionOptionsIndex];
    }

    // Every OrtStatus* result: null is success; anything else is an error the caller must release.
    public readonly delegate* unmanaged<int, byte*, nint> CreateStatus;

    public readonly delegate* unmanaged<nint, int> GetErrorCode;

    public readonly delegate* unmanaged<nint, byte*> GetErrorMessage;

    public readonly delegate* unmanaged<int, byte*, nint*, nint> CreateEnv;

    public readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession;

    public readonly delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run;

    public readonly delegate* unmanaged<nint*, nint> CreateSessionOptions;

    public readonly delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel;

    public readonly delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads;

    public readonly delegate* unmanaged<nint, int, nint> SetInterOpNumThreads;

    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount;

    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount;

    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo;

    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;

    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName;

    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName;

    public readonly delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;

    public readonly delegate* unmanaged<nint, void**, nint> GetTensorMutableData;

    public readonly delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;

    public readonly delegate* unmanaged<nint, int*, nint> GetTensorElementType;

    public readonly delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;

    public readonly delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;

    public readonly delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;

    public readonly delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;

    public readonly delegate* unmanaged<nint, void*, nint> AllocatorFree;

    public readonly delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;

    public readonly delegate* unmanaged<nint, void> ReleaseEnv;

    public readonly delegate* unmanaged<nint, void> ReleaseStatus;

    public readonly delegate* unmanaged<nint, void> ReleaseMemoryInfo;

    public readonly delegate* unmanaged<nint, void> ReleaseSession;

    public readonly delegate* unmanaged<nint, void> ReleaseValue;

    public readonly delegate* unmanaged<nint, void> ReleaseTypeInfo;

    public readonly delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo;

    public readonly delegate* unmanaged<nint, void> ReleaseSessionOptions;

    /// <summary>Throws <see cref="OnnxRuntimeException"/> carrying ORT's message when <paramref name="status"/> is an error; releases it.</summary>
    public void Check(nint status, string what)
    {
        if (status == 0)
        {
            return;
        }

        var code = (OrtErrorCode)GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "no message";
        ReleaseStatus(status);
        throw new OnnxRuntimeException(code, $"ONNX Runtime could not {what}: {message}");
    }
}

/// <summary>OrtErrorCode (onnxruntime_c_api.h).</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    ExecutionProviderFail = 11,
}

/// <summary>ONNX Runtime reported an error; the message is ORT's own, prefixed with what was being done.</summary>
public sealed class OnnxRuntimeException(OrtErrorCode code, string message) : InvalidOperationException(message)
{
    public OrtErrorCode Code { get; } = code;
}
