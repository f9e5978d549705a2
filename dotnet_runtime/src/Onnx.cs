// The few ONNX Runtime C API calls the runtime needs, bound by P/Invoke: OrtGetApiBase() from
// the native library "onnxruntime" (in Unity: the one com.github.asus4.onnxruntime ships; in
// the tests here: the onnxruntime wheel's libonnxruntime.so), then the functions of the OrtApi
// table by their index. The indices are those of struct OrtApi in onnxruntime_c_api.h
// (ORT_API_VERSION 29, as shipped in com.github.asus4.onnxruntime 0.4.9), cross-checked with
// the order of the OrtApi struct in that package's NativeMethods.shared.cs; the table only
// grows at its end, so they hold for every later version. docs/runtime.md lists them, and
// dotnet_runtime/tools/ort_api_indices.py prints them from a header.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>A float32 (or, as an input, int64) tensor: its shape and its values in
    /// row-major order.</summary>
    public sealed class Tensor
    {
        public long[] Shape { get; }
        /// <summary>The values of a float32 tensor (null for an int64 one).</summary>
        public float[] Data { get; }
        /// <summary>The values of an int64 tensor (null for a float32 one).</summary>
        public long[] Int64Data { get; }

        public Tensor(long[] shape, float[] data)
        {
            Check(shape, data.Length);
            Shape = shape;
            Data = data;
        }

        public Tensor(long[] shape, long[] data)
        {
            Check(shape, data.Length);
            Shape = shape;
            Int64Data = data;
        }

        static void Check(long[] shape, int length)
        {
            long n = 1;
            foreach (long d in shape) n *= d;
            if (n != length)
                throw new ArgumentException("tensor of shape [" + string.Join(", ", shape) + "] needs " + n + " values; got " + length);
        }
    }

    /// <summary>Session settings (Python: assetgen.runtime.Runtime.session_options).</summary>
    public sealed class SessionSettings
    {
        /// <summary>Intra-op threads; 0 lets ONNX Runtime choose.</summary>
        public int IntraOpThreads { get; set; }
        /// <summary>Inter-op threads; 0 lets ONNX Runtime choose.</summary>
        public int InterOpThreads { get; set; }
    }

    /// <summary>A tensor in ONNX Runtime's memory (an OrtValue): a graph output kept as it is,
    /// or a value over a managed array, for <see cref="OnnxSession.RunValues"/>. An output of
    /// one run can be an input of the next without being copied (the dialogue step graph's
    /// key/value cache). Dispose it when done.</summary>
    public sealed class OnnxValue : IDisposable
    {
        IntPtr handle;
        GCHandle pin;

        /// <summary>The tensor's dimensions.</summary>
        public long[] Shape { get; }
        /// <summary>ONNX's element type (1: float32, 7: int64).</summary>
        public int ElementType { get; }
        /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
        public long Count { get; }

        OnnxValue(IntPtr handle, long[] shape, int elementType)
        {
            this.handle = handle;
            Shape = shape;
            ElementType = elementType;
            long n = 1;
            foreach (long d in shape) n *= d;
            Count = n;
        }

        internal IntPtr Handle
        {
            get
            {
                if (handle == IntPtr.Zero) throw new ObjectDisposedException("OnnxValue");
                return handle;
            }
        }

        /// <summary>A value over the tensor's own array, not a copy: the array stays pinned
        /// until the value is disposed, and a run reads what the array holds at that
        /// moment.</summary>
        public static OnnxValue Over(Tensor tensor)
        {
            return Over(tensor, "CreateTensorWithDataAsOrtValue");
        }

        internal static OnnxValue Over(Tensor tensor, string what)
        {
            bool int64 = tensor.Int64Data != null;
            var pin = int64 ? GCHandle.Alloc(tensor.Int64Data, GCHandleType.Pinned) : GCHandle.Alloc(tensor.Data, GCHandleType.Pinned);
            var shape = GCHandle.Alloc(tensor.Shape, GCHandleType.Pinned);
            try
            {
                ulong bytes = int64 ? (ulong)tensor.Int64Data.Length * 8UL : (ulong)tensor.Data.Length * 4UL;
                int type = int64 ? OrtNative.ElementInt64 : OrtNative.ElementFloat;
                IntPtr value;
                OrtNative.Check(OrtNative.CreateTensorWithDataAsOrtValue(OrtNative.CpuMemory, pin.AddrOfPinnedObject(),
                    (UIntPtr)bytes, shape.AddrOfPinnedObject(), (UIntPtr)tensor.Shape.Length, type, out value), what);
                return new OnnxValue(value, (long[])tensor.Shape.Clone(), type) { pin = pin };
            }
            catch
            {
                pin.Free();
                throw;
            }
            finally
            {
                shape.Free();
            }
        }

        /// <summary>Takes ownership of an OrtValue that ONNX Runtime returned.</summary>
        internal static OnnxValue Own(IntPtr value)
        {
            try
            {
                IntPtr info;
                OrtNative.Check(OrtNative.GetTensorTypeAndShape(value, out info), "GetTensorTypeAndShape");
                try
                {
                    int type;
                    OrtNative.Check(OrtNative.GetTensorElementType(info, out type), "GetTensorElementType");
                    return new OnnxValue(value, OnnxSession.Dimensions(info), type);
                }
                finally
                {
                    OrtNative.ReleaseTensorTypeAndShapeInfo(info);
                }
            }
            catch
            {
                OrtNative.ReleaseValue(value);
                throw;
            }
        }

        /// <summary>Copies a float32 value's elements into the start of
        /// <paramref name="destination"/> (at least <see cref="Count"/> long).</summary>
        public void CopyTo(float[] destination)
        {
            if (ElementType != OrtNative.ElementFloat)
                throw new InvalidOperationException("element type " + ElementType + ", not float32");
            if (destination.Length < Count)
                throw new ArgumentException("the destination holds " + destination.Length + " values; the tensor has " + Count);
            IntPtr p;
            OrtNative.Check(OrtNative.GetTensorMutableData(Handle, out p), "GetTensorMutableData");
            if (Count > 0) Marshal.Copy(p, destination, 0, (int)Count);
        }

        public void Dispose()
        {
            if (handle != IntPtr.Zero)
            {
                OrtNative.ReleaseValue(handle);
                handle = IntPtr.Zero;
            }
            if (pin.IsAllocated) pin.Free();
        }
    }

    internal static class OrtNative
    {
        // iOS links ONNX Runtime statically; everywhere else it is the shared library.
#if UNITY_IOS && !UNITY_EDITOR
        const string Library = "__Internal";
#else
        const string Library = "onnxruntime";
#endif
        /// <summary>The OrtApi version asked for: that of ONNX Runtime 1.14, which has every
        /// function used here (index 130 at most); any newer library serves it too.</summary>
        public const uint ApiVersion = 14;

        // indices into struct OrtApi (onnxruntime_c_api.h)
        const int IdxGetErrorCode = 1, IdxGetErrorMessage = 2, IdxCreateEnv = 3,
            IdxCreateSessionFromArray = 8, IdxRun = 9, IdxCreateSessionOptions = 10,
            IdxSetSessionLogSeverityLevel = 22, IdxSetSessionGraphOptimizationLevel = 23,
            IdxSetIntraOpNumThreads = 24, IdxSetInterOpNumThreads = 25,
            IdxSessionGetInputCount = 30, IdxSessionGetOutputCount = 31,
            IdxSessionGetInputTypeInfo = 33, IdxSessionGetInputName = 36,
            IdxSessionGetOutputName = 37, IdxCreateTensorWithDataAsOrtValue = 49,
            IdxGetTensorMutableData = 51, IdxCastTypeInfoToTensorInfo = 55,
            IdxGetTensorElementType = 60, IdxGetDimensionsCount = 61, IdxGetDimensions = 62,
            IdxGetTensorTypeAndShape = 65, IdxCreateCpuMemoryInfo = 69, IdxAllocatorFree = 76,
            IdxGetAllocatorWithDefaultOptions = 78, IdxReleaseEnv = 92, IdxReleaseStatus = 93,
            IdxReleaseMemoryInfo = 94, IdxReleaseSession = 95, IdxReleaseValue = 96,
            IdxReleaseTypeInfo = 98, IdxReleaseTensorTypeAndShapeInfo = 99,
            IdxReleaseSessionOptions = 100, IdxAddSessionConfigEntry = 130;

        public const int ElementFloat = 1;       // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
        public const int ElementInt64 = 7;       // ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64
        public const int LoggingError = 3;       // ORT_LOGGING_LEVEL_ERROR
        public const int OptimizeAll = 99;       // ORT_ENABLE_ALL
        public const int ArenaAllocator = 1;     // OrtArenaAllocator
        public const int MemTypeDefault = 0;     // OrtMemTypeDefault

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        static extern IntPtr OrtGetApiBase();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GetApiFn(uint version);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GetVersionStringFn();
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int StatusCodeFn(IntPtr status);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr StatusMessageFn(IntPtr status);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CreateEnvFn(int level, IntPtr logId, out IntPtr env);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CreateSessionFromArrayFn(IntPtr env, IntPtr data, UIntPtr length, IntPtr options, out IntPtr session);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr RunFn(IntPtr session, IntPtr runOptions, IntPtr inputNames, IntPtr inputs, UIntPtr inputCount, IntPtr outputNames, UIntPtr outputCount, IntPtr outputs);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CreateOutFn(out IntPtr result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr SetIntFn(IntPtr target, int value);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CountFn(IntPtr target, out UIntPtr count);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr TypeInfoAtFn(IntPtr session, UIntPtr index, out IntPtr typeInfo);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr NameAtFn(IntPtr session, UIntPtr index, IntPtr allocator, out IntPtr name);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CreateTensorFn(IntPtr info, IntPtr data, UIntPtr byteLength, IntPtr shape, UIntPtr shapeLength, int type, out IntPtr value);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr GetOutFn(IntPtr target, out IntPtr result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr GetIntFn(IntPtr target, out int result);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr GetDimensionsFn(IntPtr info, IntPtr dims, UIntPtr length);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr CreateCpuMemoryInfoFn(int allocatorType, int memType, out IntPtr info);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr AllocatorFreeFn(IntPtr allocator, IntPtr p);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr AddConfigFn(IntPtr options, IntPtr key, IntPtr value);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void ReleaseFn(IntPtr target);

        public static readonly string Version;
        public static readonly StatusCodeFn GetErrorCode;
        public static readonly StatusMessageFn GetErrorMessage;
        public static readonly CreateEnvFn CreateEnv;
        public static readonly CreateSessionFromArrayFn CreateSessionFromArray;
        public static readonly RunFn Run;
        public static readonly CreateOutFn CreateSessionOptions;
        public static readonly SetIntFn SetSessionLogSeverityLevel, SetSessionGraphOptimizationLevel, SetIntraOpNumThreads, SetInterOpNumThreads;
        public static readonly CountFn SessionGetInputCount, SessionGetOutputCount, GetDimensionsCount;
        public static readonly TypeInfoAtFn SessionGetInputTypeInfo;
        public static readonly NameAtFn SessionGetInputName, SessionGetOutputName;
        public static readonly CreateTensorFn CreateTensorWithDataAsOrtValue;
        public static readonly GetOutFn GetTensorMutableData, CastTypeInfoToTensorInfo, GetTensorTypeAndShape;
        public static readonly GetIntFn GetTensorElementType;
        public static readonly GetDimensionsFn GetDimensions;
        public static readonly CreateCpuMemoryInfoFn CreateCpuMemoryInfo;
        public static readonly AllocatorFreeFn AllocatorFree;
        public static readonly CreateOutFn GetAllocatorWithDefaultOptions;
        public static readonly AddConfigFn AddSessionConfigEntry;
        public static readonly ReleaseFn ReleaseEnv, ReleaseStatus, ReleaseMemoryInfo, ReleaseSession, ReleaseValue, ReleaseTypeInfo, ReleaseTensorTypeAndShapeInfo, ReleaseSessionOptions;

        static OrtNative()
        {
            IntPtr apiBase;
            try
            {
                apiBase = OrtGetApiBase();
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException || ex is BadImageFormatException)
            {
                throw new OnnxRuntimeException("ONNX Runtime's native library 'onnxruntime' could not be loaded (" + ex.GetType().Name + ": " + ex.Message + "); in Unity install com.github.asus4.onnxruntime, elsewhere put libonnxruntime on the library path (LD_LIBRARY_PATH, PATH or DYLD_LIBRARY_PATH)", true);
            }
            var getApi = Fn<GetApiFn>(Marshal.ReadIntPtr(apiBase, 0));
            var getVersion = Fn<GetVersionStringFn>(Marshal.ReadIntPtr(apiBase, IntPtr.Size));
            Version = Utf8(getVersion());
            IntPtr api = getApi(ApiVersion);
            if (api == IntPtr.Zero)
                throw new OnnxRuntimeException("ONNX Runtime " + Version + " does not serve OrtApi version " + ApiVersion + " (ONNX Runtime 1.14 or newer is needed)", true);
            GetErrorCode = At<StatusCodeFn>(api, IdxGetErrorCode);
            GetErrorMessage = At<StatusMessageFn>(api, IdxGetErrorMessage);
            CreateEnv = At<CreateEnvFn>(api, IdxCreateEnv);
            CreateSessionFromArray = At<CreateSessionFromArrayFn>(api, IdxCreateSessionFromArray);
            Run = At<RunFn>(api, IdxRun);
            CreateSessionOptions = At<CreateOutFn>(api, IdxCreateSessionOptions);
            SetSessionLogSeverityLevel = At<SetIntFn>(api, IdxSetSessionLogSeverityLevel);
            SetSessionGraphOptimizationLevel = At<SetIntFn>(api, IdxSetSessionGraphOptimizationLevel);
            SetIntraOpNumThreads = At<SetIntFn>(api, IdxSetIntraOpNumThreads);
            SetInterOpNumThreads = At<SetIntFn>(api, IdxSetInterOpNumThreads);
            SessionGetInputCount = At<CountFn>(api, IdxSessionGetInputCount);
            SessionGetOutputCount = At<CountFn>(api, IdxSessionGetOutputCount);
            SessionGetInputTypeInfo = At<TypeInfoAtFn>(api, IdxSessionGetInputTypeInfo);
            SessionGetInputName = At<NameAtFn>(api, IdxSessionGetInputName);
            SessionGetOutputName = At<NameAtFn>(api, IdxSessionGetOutputName);
            CreateTensorWithDataAsOrtValue = At<CreateTensorFn>(api, IdxCreateTensorWithDataAsOrtValue);
            GetTensorMutableData = At<GetOutFn>(api, IdxGetTensorMutableData);
            CastTypeInfoToTensorInfo = At<GetOutFn>(api, IdxCastTypeInfoToTensorInfo);
            GetTensorElementType = At<GetIntFn>(api, IdxGetTensorElementType);
            GetDimensionsCount = At<CountFn>(api, IdxGetDimensionsCount);
            GetDimensions = At<GetDimensionsFn>(api, IdxGetDimensions);
            GetTensorTypeAndShape = At<GetOutFn>(api, IdxGetTensorTypeAndShape);
            CreateCpuMemoryInfo = At<CreateCpuMemoryInfoFn>(api, IdxCreateCpuMemoryInfo);
            AllocatorFree = At<AllocatorFreeFn>(api, IdxAllocatorFree);
            GetAllocatorWithDefaultOptions = At<CreateOutFn>(api, IdxGetAllocatorWithDefaultOptions);
            AddSessionConfigEntry = At<AddConfigFn>(api, IdxAddSessionConfigEntry);
            ReleaseEnv = At<ReleaseFn>(api, IdxReleaseEnv);
            ReleaseStatus = At<ReleaseFn>(api, IdxReleaseStatus);
            ReleaseMemoryInfo = At<ReleaseFn>(api, IdxReleaseMemoryInfo);
            ReleaseSession = At<ReleaseFn>(api, IdxReleaseSession);
            ReleaseValue = At<ReleaseFn>(api, IdxReleaseValue);
            ReleaseTypeInfo = At<ReleaseFn>(api, IdxReleaseTypeInfo);
            ReleaseTensorTypeAndShapeInfo = At<ReleaseFn>(api, IdxReleaseTensorTypeAndShapeInfo);
            ReleaseSessionOptions = At<ReleaseFn>(api, IdxReleaseSessionOptions);
        }

        static T Fn<T>(IntPtr p) where T : class
        {
            if (p == IntPtr.Zero) throw new OnnxRuntimeException("ONNX Runtime's API table has a null entry for " + typeof(T).Name);
            return (T)(object)Marshal.GetDelegateForFunctionPointer(p, typeof(T));
        }

        static T At<T>(IntPtr api, int index) where T : class
        {
            return Fn<T>(Marshal.ReadIntPtr(api, index * IntPtr.Size));
        }

        /// <summary>Throws the status's message (and releases it) when a call failed.</summary>
        public static void Check(IntPtr status, string what)
        {
            if (status == IntPtr.Zero) return;
            int code = GetErrorCode(status);
            string message = Utf8(GetErrorMessage(status));
            ReleaseStatus(status);
            throw new OnnxRuntimeException(what + ": ONNX Runtime error " + code + ": " + message);
        }

        public static string Utf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>A NUL-terminated UTF-8 copy in unmanaged memory (free with FreeHGlobal).</summary>
        public static IntPtr ToUtf8(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            IntPtr p = Marshal.AllocHGlobal(bytes.Length + 1);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            Marshal.WriteByte(p, bytes.Length, 0);
            return p;
        }

        static readonly object EnvLock = new object();
        static IntPtr env;
        static IntPtr cpuMemory;

        /// <summary>The process's one OrtEnv (ONNX Runtime allows one), made on first use.</summary>
        public static IntPtr Env
        {
            get
            {
                lock (EnvLock)
                {
                    if (env == IntPtr.Zero)
                    {
                        IntPtr id = ToUtf8("assetgen");
                        try { Check(CreateEnv(LoggingError, id, out env), "CreateEnv"); }
                        finally { Marshal.FreeHGlobal(id); }
                    }
                    return env;
                }
            }
        }

        public static IntPtr CpuMemory
        {
            get
            {
                lock (EnvLock)
                {
                    if (cpuMemory == IntPtr.Zero)
                        Check(CreateCpuMemoryInfo(ArenaAllocator, MemTypeDefault, out cpuMemory), "CreateCpuMemoryInfo");
                    return cpuMemory;
                }
            }
        }
    }

    /// <summary>One ONNX graph loaded into ONNX Runtime (CPU), run with float32 tensors.
    /// Thread-safe for <see cref="Run"/> (ONNX Runtime's sessions are).</summary>
    public sealed class OnnxSession : IDisposable
    {
        IntPtr session;
        readonly string name;

        /// <summary>Input names in graph order.</summary>
        public IReadOnlyList<string> InputNames { get; }
        /// <summary>Output names in graph order.</summary>
        public IReadOnlyList<string> OutputNames { get; }
        /// <summary>Each input's dimensions; -1 where a dimension is symbolic (batch).</summary>
        public IReadOnlyDictionary<string, long[]> InputShapes { get; }

        /// <summary>The ONNX Runtime version of the native library loaded.</summary>
        public static string RuntimeVersion
        {
            get
            {
                EnsureLoaded();
                return OrtNative.Version;
            }
        }

        // (outside OrtNative: calling a method of OrtNative would run its type initializer
        // first, outside the try)
        /// <summary>Loads the library and the API table once; a failure is the
        /// <see cref="OnnxRuntimeException"/> itself, every time, not a
        /// TypeInitializationException.</summary>
        static void EnsureLoaded()
        {
            try
            {
                System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(OrtNative).TypeHandle);
            }
            catch (TypeInitializationException ex) when (ex.InnerException is OnnxRuntimeException)
            {
                var inner = (OnnxRuntimeException)ex.InnerException;
                throw new OnnxRuntimeException(inner.Message, inner.LibraryMissing);
            }
        }

        /// <summary>A session for the ONNX file's bytes (already verified by the caller).</summary>
        public OnnxSession(byte[] model, string name, SessionSettings settings)
        {
            this.name = name;
            EnsureLoaded();
            IntPtr env = OrtNative.Env;
            IntPtr options;
            OrtNative.Check(OrtNative.CreateSessionOptions(out options), name + ": CreateSessionOptions");
            var pin = GCHandle.Alloc(model, GCHandleType.Pinned);
            try
            {
                settings = settings ?? new SessionSettings();
                OrtNative.Check(OrtNative.SetIntraOpNumThreads(options, settings.IntraOpThreads), name + ": SetIntraOpNumThreads");
                OrtNative.Check(OrtNative.SetInterOpNumThreads(options, settings.InterOpThreads), name + ": SetInterOpNumThreads");
                OrtNative.Check(OrtNative.SetSessionGraphOptimizationLevel(options, OrtNative.OptimizeAll), name + ": SetSessionGraphOptimizationLevel");
                OrtNative.Check(OrtNative.SetSessionLogSeverityLevel(options, OrtNative.LoggingError), name + ": SetSessionLogSeverityLevel");
                // no busy-waiting between ops (the Python runtime sets the same)
                IntPtr key = OrtNative.ToUtf8("session.intra_op.allow_spinning");
                IntPtr value = OrtNative.ToUtf8("0");
                try { OrtNative.Check(OrtNative.AddSessionConfigEntry(options, key, value), name + ": AddSessionConfigEntry"); }
                finally { Marshal.FreeHGlobal(key); Marshal.FreeHGlobal(value); }
                OrtNative.Check(OrtNative.CreateSessionFromArray(env, pin.AddrOfPinnedObject(), (UIntPtr)model.Length, options, out session), name + ": ONNX Runtime could not load the model");
            }
            finally
            {
                pin.Free();
                OrtNative.ReleaseSessionOptions(options);
            }
            InputNames = Names(OrtNative.SessionGetInputCount, OrtNative.SessionGetInputName);
            OutputNames = Names(OrtNative.SessionGetOutputCount, OrtNative.SessionGetOutputName);
            var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
            for (int i = 0; i < InputNames.Count; i++) shapes[InputNames[i]] = InputShape(i);
            InputShapes = shapes;
        }

        List<string> Names(OrtNative.CountFn count, OrtNative.NameAtFn nameAt)
        {
            UIntPtr n;
            OrtNative.Check(count(session, out n), name + ": input/output count");
            IntPtr allocator;
            OrtNative.Check(OrtNative.GetAllocatorWithDefaultOptions(out allocator), "GetAllocatorWithDefaultOptions");
            var names = new List<string>();
            for (ulong i = 0; i < (ulong)n; i++)
            {
                IntPtr p;
                OrtNative.Check(nameAt(session, (UIntPtr)i, allocator, out p), name + ": input/output name");
                names.Add(OrtNative.Utf8(p));
                OrtNative.Check(OrtNative.AllocatorFree(allocator, p), "AllocatorFree");
            }
            return names;
        }

        long[] InputShape(int index)
        {
            IntPtr typeInfo;
            OrtNative.Check(OrtNative.SessionGetInputTypeInfo(session, (UIntPtr)index, out typeInfo), name + ": SessionGetInputTypeInfo");
            try
            {
                IntPtr tensorInfo; // owned by typeInfo
                OrtNative.Check(OrtNative.CastTypeInfoToTensorInfo(typeInfo, out tensorInfo), name + ": CastTypeInfoToTensorInfo");
                if (tensorInfo == IntPtr.Zero) return new long[0];
                return Dimensions(tensorInfo);
            }
            finally
            {
                OrtNative.ReleaseTypeInfo(typeInfo);
            }
        }

        internal static long[] Dimensions(IntPtr info)
        {
            UIntPtr count;
            OrtNative.Check(OrtNative.GetDimensionsCount(info, out count), "GetDimensionsCount");
            var dims = new long[(int)(ulong)count];
            var pin = GCHandle.Alloc(dims, GCHandleType.Pinned);
            try { OrtNative.Check(OrtNative.GetDimensions(info, pin.AddrOfPinnedObject(), count), "GetDimensions"); }
            finally { pin.Free(); }
            return dims;
        }

        /// <summary>Runs the graph on the named float32 or int64 inputs; returns every output, by name,
        /// as float32 (an output of another element type is an error).</summary>
        public Dictionary<string, Tensor> Run(IDictionary<string, Tensor> inputs)
        {
            if (session == IntPtr.Zero) throw new ObjectDisposedException(name);
            var names = new List<string>(inputs.Count);
            var values = new List<OnnxValue>(inputs.Count);
            IntPtr[] outputs = null;
            try
            {
                foreach (var kv in inputs)
                {
                    names.Add(kv.Key);
                    values.Add(OnnxValue.Over(kv.Value, name + ": input '" + kv.Key + "'"));
                }
                outputs = Invoke(names, values);
                var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int j = 0; j < outputs.Length; j++) result[OutputNames[j]] = ReadTensor(outputs[j], OutputNames[j]);
                return result;
            }
            finally
            {
                if (outputs != null) foreach (IntPtr v in outputs) if (v != IntPtr.Zero) OrtNative.ReleaseValue(v);
                foreach (var v in values) v.Dispose();
            }
        }

        /// <summary>Runs the graph on the named values and returns every output, in
        /// <see cref="OutputNames"/> order, as a value in ONNX Runtime's memory, nothing copied:
        /// the caller reads what it needs (<see cref="OnnxValue.CopyTo"/>), passes the others on
        /// as inputs of a later run, and disposes them.</summary>
        public OnnxValue[] RunValues(IList<string> inputNames, IList<OnnxValue> inputs)
        {
            if (session == IntPtr.Zero) throw new ObjectDisposedException(name);
            if (inputNames.Count != inputs.Count)
                throw new ArgumentException(inputNames.Count + " input names for " + inputs.Count + " inputs");
            IntPtr[] outputs = Invoke(inputNames, inputs);
            var result = new OnnxValue[outputs.Length];
            try
            {
                for (int j = 0; j < outputs.Length; j++)
                {
                    result[j] = OnnxValue.Own(outputs[j]);
                    outputs[j] = IntPtr.Zero;
                }
                return result;
            }
            catch
            {
                foreach (IntPtr v in outputs) if (v != IntPtr.Zero) OrtNative.ReleaseValue(v);
                foreach (var v in result) if (v != null) v.Dispose();
                throw;
            }
        }

        /// <summary>One OrtApi Run on the inputs; every output's OrtValue, which the caller
        /// releases.</summary>
        IntPtr[] Invoke(IList<string> inputNames, IList<OnnxValue> inputs)
        {
            int n = inputs.Count;
            int m = OutputNames.Count;
            var pins = new List<GCHandle>();
            var strings = new List<IntPtr>();
            var values = new IntPtr[n];
            var names = new IntPtr[n];
            var outputNames = new IntPtr[m];
            var outputs = new IntPtr[m];
            try
            {
                for (int i = 0; i < n; i++)
                {
                    values[i] = inputs[i].Handle;
                    names[i] = OrtNative.ToUtf8(inputNames[i]);
                    strings.Add(names[i]);
                }
                for (int j = 0; j < m; j++)
                {
                    outputNames[j] = OrtNative.ToUtf8(OutputNames[j]);
                    strings.Add(outputNames[j]);
                }
                var hIn = GCHandle.Alloc(names, GCHandleType.Pinned); pins.Add(hIn);
                var hVal = GCHandle.Alloc(values, GCHandleType.Pinned); pins.Add(hVal);
                var hOutNames = GCHandle.Alloc(outputNames, GCHandleType.Pinned); pins.Add(hOutNames);
                var hOut = GCHandle.Alloc(outputs, GCHandleType.Pinned); pins.Add(hOut);
                OrtNative.Check(OrtNative.Run(session, IntPtr.Zero, hIn.AddrOfPinnedObject(), hVal.AddrOfPinnedObject(), (UIntPtr)n,
                    hOutNames.AddrOfPinnedObject(), (UIntPtr)m, hOut.AddrOfPinnedObject()), name + ": Run");
                return outputs;
            }
            catch
            {
                foreach (IntPtr v in outputs) if (v != IntPtr.Zero) OrtNative.ReleaseValue(v);
                throw;
            }
            finally
            {
                foreach (var h in pins) h.Free();
                foreach (IntPtr str in strings) Marshal.FreeHGlobal(str);
            }
        }

        Tensor ReadTensor(IntPtr value, string output)
        {
            IntPtr info;
            OrtNative.Check(OrtNative.GetTensorTypeAndShape(value, out info), name + ": output '" + output + "'");
            long[] shape;
            try
            {
                int type;
                OrtNative.Check(OrtNative.GetTensorElementType(info, out type), "GetTensorElementType");
                if (type != OrtNative.ElementFloat)
                    throw new OnnxRuntimeException(name + ": output '" + output + "' has element type " + type + ", not float32");
                shape = Dimensions(info);
            }
            finally
            {
                OrtNative.ReleaseTensorTypeAndShapeInfo(info);
            }
            long count = 1;
            foreach (long d in shape) count *= d;
            var data = new float[count];
            IntPtr p;
            OrtNative.Check(OrtNative.GetTensorMutableData(value, out p), "GetTensorMutableData");
            if (count > 0) Marshal.Copy(p, data, 0, (int)count);
            return new Tensor(shape, data);
        }

        public void Dispose()
        {
            if (session != IntPtr.Zero)
            {
                OrtNative.ReleaseSession(session);
                session = IntPtr.Zero;
            }
        }
    }
}
