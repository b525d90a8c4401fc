using System.Runtime.InteropServices;

namespace RagPlatform.Plugins.Onnx.Interop;

/// <summary>The declared element type and shape of a session input or output (-1 for a symbolic dimension).</summary>
internal sealed record OrtTensorSpec(string Name, OrtElementType ElementType, long[] Shape);

/// <summary>ONNXTensorElementDataType values this provider reads.</summary>
internal enum OrtElementType
{
    Undefined = 0,
    Float = 1,
    Int32 = 6,
    Int64 = 7,
}

/// <summary>
/// One ONNX Runtime inference session over a model file, with the input/output names it declares. Safe to
/// run from several threads (ORT sessions are); disposing releases the session, its memory info and names.
/// </summary>
internal sealed unsafe class OrtSession : IDisposable
{
    private const int GraphOptimizationAll = 99;
    private const int ArenaAllocator = 1;
    private const int MemTypeDefault = 0;

    private readonly OrtApi _api;
    private readonly OrtHandle _session;
    private readonly OrtHandle _memoryInfo;

    // UTF-8 names in native memory, kept for the session's life so a Run allocates none.
    private readonly nint[] _inputNames;
    private readonly nint[] _outputNames;

    public OrtSession(OrtRuntime runtime, string modelPath, int intraOpThreads)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _api = runtime.Api;
        nint options;
        _api.Check(_api.CreateSessionOptions(&options), "create session options");
        using (var optionsHandle = new OrtHandle(options, _api.ReleaseSessionOptions))
        {
            _api.Check(_api.SetIntraOpNumThreads(options, Math.Max(0, intraOpThreads)), "set the intra-op thread count");

            // One batch runs at a time; its operators are parallelised by the intra-op pool.
            _api.Check(_api.SetInterOpNumThreads(options, 1), "set the inter-op thread count");
            _api.Check(_api.SetSessionGraphOptimizationLevel(options, GraphOptimizationAll), "set the graph optimisation level");

            var path = Marshal.StringToCoTaskMemUTF8(modelPath);
            try
            {
                nint session;
                _api.Check(_api.CreateSession(runtime.Environment, (byte*)path, options, &session), $"load the model {modelPath}");
                _session = new OrtHandle(session, _api.ReleaseSession);
            }
            finally
            {
                Marshal.FreeCoTaskMem(path);
            }
        }

        try
        {
            nint memoryInfo;
            _api.Check(_api.CreateCpuMemoryInfo(ArenaAllocator, MemTypeDefault, &memoryInfo), "create CPU memory info");
            _memoryInfo = new OrtHandle(memoryInfo, _api.ReleaseMemoryInfo);
            Inputs = ReadSpecs(isInput: true);
            Outputs = ReadSpecs(isInput: false);
            _inputNames = Inputs.Select(i => Marshal.StringToCoTaskMemUTF8(i.Name)).ToArray();
            _outputNames = Outputs.Select(o => Marshal.StringToCoTaskMemUTF8(o.Name)).ToArray();
        }
        catch
        {
            _memoryInfo?.Dispose();
            _session.Dispose();
            throw;
        }
    }

    public IReadOnlyList<OrtTensorSpec> Inputs { get; }

    public IReadOnlyList<OrtTensorSpec> Outputs { get; }

    /// <summary>
    /// Runs the session on int64 inputs of shape [rows, columns] given in <see cref="Inputs"/> order and returns
    /// output <paramref name="outputIndex"/> (ORT allocates it; the caller disposes it).
    /// </summary>
    public OrtTensor Run(ReadOnlySpan<long[]> inputs, int rows, int columns, int outputIndex)
    {
        if (inputs.Length != _inputNames.Length)
        {
            throw new ArgumentException($"The model takes {_inputNames.Length} inputs; {inputs.Length} were given.", nameof(inputs));
        }

        var elements = checked(rows * columns);
        var shape = stackalloc long[2] { rows, columns };
        var values = stackalloc nint[inputs.Length];
        var names = stackalloc nint[inputs.Length];
        var pins = new GCHandle[inputs.Length];
        var added = false;
        try
        {
            _session.DangerousAddRef(ref added);
            for (var i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].Length < elements)
                {
                    throw new ArgumentException($"Input {Inputs[i].Name} holds {inputs[i].Length} values; [{rows}, {columns}] needs {elements}.", nameof(inputs));
                }

                pins[i] = GCHandle.Alloc(inputs[i], GCHandleType.Pinned);
                names[i] = _inputNames[i];
                nint value;
                _api.Check(
                    _api.CreateTensorWithDataAsOrtValue(
                        _memoryInfo.DangerousGetHandle(), (void*)pins[i].AddrOfPinnedObject(), (nuint)(elements * sizeof(long)),
                        shape, 2, (int)OrtElementType.Int64, &value),
                    $"wrap input {Inputs[i].Name}");
                values[i] = value;
            }

            nint output = 0;
            var outputName = _outputNames[outputIndex];
            _api.Check(
                _api.Run(_session.DangerousGetHandle(), 0, (byte**)names, values, (nuint)inputs.Length, (byte**)&outputName, 1, &output),
                "run the model");
            return new OrtTensor(_api, output);
        }
        finally
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                if (values[i] != 0)
                {
                    _api.ReleaseValue(values[i]);
                }

                if (pins[i].IsAllocated)
                {
                    pins[i].Free();
                }
            }

            if (added)
            {
                _session.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _memoryInfo.Dispose();
        foreach (var name in _inputNames.Concat(_outputNames))
        {
            Marshal.FreeCoTaskMem(name);
        }
    }

    private OrtTensorSpec[] ReadSpecs(bool isInput)
    {
        var session = _session.DangerousGetHandle();
        nuint count;
        _api.Check(isInput ? _api.SessionGetInputCount(session, &count) : _api.SessionGetOutputCount(session, &count), "count the model's inputs and outputs");
        nint allocator;
        _api.Check(_api.GetAllocatorWithDefaultOptions(&allocator), "get the default allocator");
        var specs = new OrtTensorSpec[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            _api.Check(isInput ? _api.SessionGetInputName(session, i, allocator, &name) : _api.SessionGetOutputName(session, i, allocator, &name), "read a name");
            string text;
            try
            {
                text = Marshal.PtrToStringUTF8((nint)name) ?? string.Empty;
            }
            finally
            {
                _api.Check(_api.AllocatorFree(allocator, name), "free a name");
            }

            nint typeInfo;
            _api.Check(isInput ? _api.SessionGetInputTypeInfo(session, i, &typeInfo) : _api.SessionGetOutputTypeInfo(session, i, &typeInfo), $"read the type of {text}");
            try
            {
                nint tensorInfo;
                _api.Check(_api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), $"read the tensor type of {text}");
                specs[i] = tensorInfo == 0
                    ? new OrtTensorSpec(text, OrtElementType.Undefined, [])
                    : new OrtTensorSpec(text, ElementType(tensorInfo), Dimensions(tensorInfo));
            }
            finally
            {
                _api.ReleaseTypeInfo(typeInfo);
            }
        }

        return specs;
    }

    internal OrtElementType ElementType(nint tensorInfo)
    {
        int type;
        _api.Check(_api.GetTensorElementType(tensorInfo, &type), "read an element type");
        return (OrtElementType)type;
    }

    internal long[] Dimensions(nint tensorInfo) => OrtTensor.ReadDimensions(_api, tensorInfo);
}

/// <summary>An output tensor ORT allocated; valid until disposed.</summary>
internal sealed unsafe class OrtTensor : IDisposable
{
    private readonly OrtApi _api;
    private readonly OrtHandle _value;
    private readonly float* _data;

    public OrtTensor(OrtApi api, nint value)
    {
        _api = api;
        _value = new OrtHandle(value, api.ReleaseValue);
        nint info;
        api.Check(api.GetTensorTypeAndShape(value, &info), "read the output's shape");
        try
        {
            int type;
            api.Check(api.GetTensorElementType(info, &type), "read the output's element type");
            if (type != (int)OrtElementType.Float)
            {
                _value.Dispose();
                throw new InvalidOperationException($"The model's output is of element type {type}; the provider reads float32 outputs.");
            }

            Shape = ReadDimensions(api, info);
        }
        finally
        {
            api.ReleaseTensorTypeAndShapeInfo(info);
        }

        void* data;
        api.Check(api.GetTensorMutableData(value, &data), "read the output");
        _data = (float*)data;
        Length = 1;
        foreach (var dimension in Shape)
        {
            Length = checked(Length * (int)dimension);
        }
    }

    public long[] Shape { get; }

    public int Length { get; }

    public ReadOnlySpan<float> Data
    {
        get
        {
            ObjectDisposedException.ThrowIf(_value.IsClosed, this);
            return new ReadOnlySpan<float>(_data, Length);
        }
    }

    public void Dispose() => _value.Dispose();

    internal static long[] ReadDimensions(OrtApi api, nint tensorInfo)
    {
        nuint count;
        api.Check(api.GetDimensionsCount(tensorInfo, &count), "count dimensions");
        var dimensions = new long[(int)count];
        fixed (long* d = dimensions)
        {
            api.Check(api.GetDimensions(tensorInfo, d, count), "read dimensions");
        }

        return dimensions;
    }
}
