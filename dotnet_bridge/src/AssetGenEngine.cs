using System;
using System.IO;
using System.Runtime.InteropServices;
using Python.Runtime;

namespace AssetGen.Bridge
{
    /// <summary>The AssetGen engine, called from C#: sprites, animation frames and text,
    /// deterministic per seed, with the same results as the Python API.</summary>
    /// <remarks>
    /// Python is started once per process by the first <see cref="Start"/> and never shut down
    /// by the bridge: shutting it down and starting it again in one process is what crashes
    /// with numpy. <see cref="Dispose"/> releases the engine and its models; a later Start makes
    /// a new engine in the same Python. Every method may be called from any thread.
    /// </remarks>
    public sealed class AssetGenEngine : IDisposable
    {
        // Statics are per AppDomain: after a Unity domain reload they start out empty again,
        // while Python itself (per process) keeps running.
        static readonly object StartLock = new object();
        // The one lock in front of the GIL when calls are serialized. Start and Dispose take it
        // too: a thread waiting for the GIL anywhere but behind it could deadlock the GC.
        static readonly object PythonLock = new object();
        static AssetGenEngine running;
        static string pythonStartedFrom;

        readonly AssetGenConfig config;
        readonly bool serialize;
        PyObject bridge;
        bool disposed;

        AssetGenEngine(AssetGenConfig config, PyObject bridge)
        {
            this.config = config;
            this.bridge = bridge;
            serialize = config.SerializePythonCalls;
        }

        /// <summary>The device this engine was started with (<c>auto</c>, <c>cpu</c>,
        /// <c>cuda</c>).</summary>
        public string Device { get { return config.Device; } }

        /// <summary>Whether calls from several C# threads take turns behind one lock
        /// (see <see cref="AssetGenConfig.SerializePythonCalls"/>).</summary>
        public bool SerializesPythonCalls { get { return serialize; } }

        /// <summary>Start Python (first call in the process) and an engine, or return the
        /// engine already running when <paramref name="config"/> asks for the same thing.</summary>
        /// <exception cref="AssetGenException">Python or the engine could not start, or an
        /// engine with other settings is running (dispose it first).</exception>
        public static AssetGenEngine Start(AssetGenConfig config)
        {
            if (config == null)
                throw new ArgumentNullException("config");
            config = config.Copy();
            if (string.IsNullOrEmpty(config.Device))
                config.Device = "auto";
            if (string.IsNullOrEmpty(config.PythonExecutable))
                throw BridgeError("AssetGenConfig.PythonExecutable is empty; set it to the " +
                                  "python of the environment where assetgen is installed");
            if (!File.Exists(config.PythonExecutable))
                throw BridgeError(string.Format(
                    "AssetGenConfig.PythonExecutable '{0}' does not exist", config.PythonExecutable));
            config.PythonExecutable = Path.GetFullPath(config.PythonExecutable);
            CheckThreadSuspension(config);

            lock (StartLock)
            {
                if (running != null)
                {
                    if (running.config.PythonExecutable == config.PythonExecutable &&
                        running.config.Device == config.Device &&
                        running.config.SerializePythonCalls == config.SerializePythonCalls)
                        return running;
                    throw BridgeError(string.Format(
                        "an AssetGenEngine is already running (device '{0}', serialized calls " +
                        "{1}); dispose it before starting one with other settings",
                        running.config.Device, running.config.SerializePythonCalls));
                }
                StartPython(config);
                lock (PythonLock)
                using (Py.GIL())
                {
                    try
                    {
                        using (var module = Py.Import("assetgen.bridge"))
                        using (var device = new PyString(config.Device))
                        {
                            running = new AssetGenEngine(config, module.InvokeMethod("open_bridge", device));
                        }
                    }
                    catch (PythonException ex)
                    {
                        var error = FromPython(ex);
                        if (error.PythonType == "ModuleNotFoundError")
                            throw new AssetGenException(error.PythonType, error.Message +
                                " (is assetgen installed in the environment of '" +
                                config.PythonExecutable + "'? pip install 'assetgen[cpu,bridge]')",
                                error.PythonTraceback);
                        throw error;
                    }
                }
                return running;
            }
        }

        static void StartPython(AssetGenConfig config)
        {
            if (pythonStartedFrom != null || PythonEngine.IsInitialized)
            {
                if (pythonStartedFrom != null && pythonStartedFrom != config.PythonExecutable)
                    throw BridgeError(string.Format(
                        "Python was already started from '{0}' in this process and cannot be " +
                        "restarted from '{1}'", pythonStartedFrom, config.PythonExecutable));
                return;
            }
            string dll = string.IsNullOrEmpty(config.PythonDll)
                ? PythonLocator.SharedLibrary(config.PythonExecutable)
                : config.PythonDll;
            // Registered before Initialize, so that it runs before pythonnet's own DomainUnload
            // handler: the engine must be released while this domain can still call Python.
            AppDomain.CurrentDomain.DomainUnload += ReleaseOnDomainUnload;
            try
            {
                Runtime.PythonDLL = dll;
                // sys.prefix (and so site-packages) follows the program name: the venv's python.
                PythonEngine.ProgramName = config.PythonExecutable;
                PythonEngine.Initialize();
                // Release the GIL this thread holds after Initialize, so that any thread
                // (this one included) can take it with Py.GIL().
                PythonEngine.BeginAllowThreads();
            }
            catch (Exception ex)
            {
                throw new AssetGenException("BridgeError", string.Format(
                    "could not start Python from '{0}' with library '{1}': {2}",
                    config.PythonExecutable, dll, ex.Message), "", ex);
            }
            pythonStartedFrom = config.PythonExecutable;
        }

        /// <summary>On an AppDomain unload (Unity's domain reload), release the running engine
        /// and its models, which would otherwise stay in Python, unreachable, after the reload.
        /// pythonnet then detaches from Python without finalizing it, and the next domain's
        /// Start attaches to the same interpreter again.</summary>
        static void ReleaseOnDomainUnload(object sender, EventArgs args)
        {
            var engine = running;
            if (engine != null && PythonEngine.IsInitialized)
                engine.Dispose();
        }

        static void CheckThreadSuspension(AssetGenConfig config)
        {
            if (config.SerializePythonCalls || Type.GetType("Mono.Runtime") == null)
                return;
            if (Environment.GetEnvironmentVariable("MONO_THREADS_SUSPEND") != "preemptive")
                throw BridgeError(
                    "SerializePythonCalls = false needs preemptive thread suspension on Mono " +
                    "(start the process with MONO_THREADS_SUSPEND=preemptive); without it, " +
                    "calls from several threads can deadlock the garbage collector");
        }

        // -- discovery -----------------------------------------------------------------------

        /// <summary>A call into Python that does no work; returns the assetgen version.
        /// Useful as a health check, and it measures the bridge's fixed cost.</summary>
        public string Ping()
        {
            return Call("ping", new object[0], result => result.As<string>());
        }

        /// <summary>The ids of every loaded generator, sorted.</summary>
        public string[] GeneratorIds()
        {
            return Call("generator_ids", new object[0], ToStrings);
        }

        /// <summary>What <c>assetgen info</c> shows, as JSON: <c>id</c>, <c>kind</c>
        /// (image, animation, text), <c>can_animate</c>, <c>options_schema</c> and
        /// <c>animation_options_schema</c> (JSON Schema), <c>model</c> (model card summary).</summary>
        public string InfoJson(string generatorId)
        {
            return Call("info_json", Args(generatorId), result => result.As<string>());
        }

        // -- requests ------------------------------------------------------------------------

        /// <summary>One sprite as PNG file bytes.</summary>
        /// <param name="generatorId">An id from <see cref="GeneratorIds"/>.</param>
        /// <param name="seed">0 to <c>long.MaxValue</c>; the same seed and options always
        /// give the same sprite.</param>
        /// <param name="optionsJson">A JSON object of the generator's options (see
        /// <see cref="InfoJson"/>), e.g. <c>{"size": 64}</c>; null or empty for the
        /// defaults. Every method's options work this way.</param>
        /// <exception cref="AssetGenException">The engine refused the request or failed; its
        /// message names the parameter, the value and what is allowed.</exception>
        public byte[] GeneratePng(string generatorId, long seed, string optionsJson)
        {
            return Call("generate_png", Args(generatorId, seed, optionsJson), CopyBytes);
        }

        /// <summary>One sprite as raw RGBA8 pixels, rows top to bottom.</summary>
        public RgbaImage GenerateRgba(string generatorId, long seed, string optionsJson)
        {
            return Call("generate_rgba", Args(generatorId, seed, optionsJson), result =>
            {
                int width = Item<int>(result, 0), height = Item<int>(result, 1);
                using (var pixels = result[2])
                    return new RgbaImage(width, height, CopyBytes(pixels));
            });
        }

        /// <summary>The frames of one animation (e.g. a portrait talking) as PNG file bytes,
        /// meant to be played at the animation's frame rate (the <c>fps</c> option where the
        /// generator has one).</summary>
        public byte[][] AnimatePng(string generatorId, long seed, int frames, string optionsJson)
        {
            return Call("animate_png", Args(generatorId, seed, optionsJson, frames), ToPngs);
        }

        /// <summary>An animation whose length the generator decides: e.g. a portrait saying the
        /// line in its <c>text</c> option takes as many frames as the line needs; generators
        /// without an opinion make 8.</summary>
        public byte[][] AnimatePng(string generatorId, long seed, string optionsJson)
        {
            return Call("animate_png", Args(generatorId, seed, optionsJson), ToPngs);
        }

        /// <summary>The frames of one animation as raw RGBA8 images.</summary>
        public RgbaImage[] AnimateRgba(string generatorId, long seed, int frames, string optionsJson)
        {
            return Call("animate_rgba", Args(generatorId, seed, optionsJson, frames), ToFrames);
        }

        /// <summary>An animation whose length the generator decides, as raw RGBA8 images
        /// (see <see cref="AnimatePng(string, long, string)"/>).</summary>
        public RgbaImage[] AnimateRgba(string generatorId, long seed, string optionsJson)
        {
            return Call("animate_rgba", Args(generatorId, seed, optionsJson), ToFrames);
        }

        /// <summary><paramref name="count"/> lines of text (e.g. NPC dialogue); line k is made
        /// with seed <c>seed + k</c>, as in the Python API.</summary>
        public string[] GenerateText(string generatorId, long seed, int count, string optionsJson)
        {
            return Call("generate_text", Args(generatorId, seed, count, optionsJson), ToStrings);
        }

        /// <summary>Releases the engine and its models. Python itself keeps running (it cannot
        /// be restarted in one process); <see cref="Start"/> can make a new engine.</summary>
        public void Dispose()
        {
            lock (StartLock)
            {
                if (disposed)
                    return;
                // Under the GIL, so that no call is between its disposed check and its use of
                // the bridge object; calls already inside Python hold their own references.
                lock (PythonLock)
                using (Py.GIL())
                {
                    disposed = true;
                    bridge.Dispose();
                    bridge = null;
                }
                if (running == this)
                    running = null;
            }
        }

        // -- the one way into Python ---------------------------------------------------------

        T Call<T>(string method, object[] args, Func<PyObject, T> convert)
        {
            if (disposed)
                throw new ObjectDisposedException("AssetGenEngine");
            if (!serialize)
                return CallPython(method, args, convert);
            lock (PythonLock)
                return CallPython(method, args, convert);
        }

        T CallPython<T>(string method, object[] args, Func<PyObject, T> convert)
        {
            using (Py.GIL())
            {
                if (disposed)
                    throw new ObjectDisposedException("AssetGenEngine");
                var pyArgs = new PyObject[args.Length];
                try
                {
                    for (int i = 0; i < args.Length; i++)
                        pyArgs[i] = ToPython(args[i]);
                    using (var result = bridge.InvokeMethod(method, pyArgs))
                        return convert(result);
                }
                catch (PythonException ex)
                {
                    throw FromPython(ex);
                }
                finally
                {
                    foreach (var arg in pyArgs)
                        if (arg != null)
                            arg.Dispose();
                }
            }
        }

        static object[] Args(string generatorId, params object[] rest)
        {
            if (generatorId == null)
                throw new ArgumentNullException("generatorId");
            var args = new object[rest.Length + 1];
            args[0] = generatorId;
            for (int i = 0; i < rest.Length; i++)
                args[i + 1] = rest[i] ?? "";  // a null options text means "no options"
            return args;
        }

        /// <summary>The argument types the bridge passes, converted directly (pythonnet's general
        /// ToPython() looks the type up each time and costs several times more).</summary>
        static PyObject ToPython(object value)
        {
            if (value is string)
                return new PyString((string)value);
            if (value is long)
                return new PyInt((long)value);
            if (value is int)
                return new PyInt((int)value);
            return value.ToPython();
        }

        static T Item<T>(PyObject sequence, int index)
        {
            using (var item = sequence[index])
                return item.As<T>();
        }

        static byte[][] ToPngs(PyObject result)
        {
            var pngs = new byte[result.Length()][];
            for (int i = 0; i < pngs.Length; i++)
                using (var item = result[i])
                    pngs[i] = CopyBytes(item);
            return pngs;
        }

        static RgbaImage[] ToFrames(PyObject result)
        {
            int width = Item<int>(result, 0), height = Item<int>(result, 1);
            int count = Item<int>(result, 2);
            int frameBytes = width * height * 4;
            var images = new RgbaImage[count];
            using (var pixels = result[3])
            using (var buffer = pixels.GetBuffer(PyBUF.SIMPLE))
            {
                if (buffer.Length != (long)frameBytes * count)
                    throw BridgeError(string.Format(
                        "animation pixels are {0} bytes, expected {1} frames of {2}x{3}",
                        buffer.Length, count, width, height));
                // Straight from Python's buffer into each frame: no intermediate array.
                for (int i = 0; i < count; i++)
                {
                    var frame = new byte[frameBytes];
                    Marshal.Copy(IntPtr.Add(buffer.Buffer, i * frameBytes), frame, 0, frameBytes);
                    images[i] = new RgbaImage(width, height, frame);
                }
            }
            return images;
        }

        static string[] ToStrings(PyObject list)
        {
            var strings = new string[list.Length()];
            for (int i = 0; i < strings.Length; i++)
                strings[i] = Item<string>(list, i);
            return strings;
        }

        /// <summary>Copies a Python <c>bytes</c> object in one block. <c>As&lt;byte[]&gt;()</c>
        /// would convert it element by element, hundreds of times slower. Only the plain
        /// buffer is asked for: on Mono, asking pythonnet for the format (PyBUF.FORMATS)
        /// returns a corrupt reference, so the Python side checks types instead.</summary>
        static byte[] CopyBytes(PyObject bytes)
        {
            using (var buffer = bytes.GetBuffer(PyBUF.SIMPLE))
            {
                var copy = new byte[buffer.Length];
                if (copy.Length > 0)
                    Marshal.Copy(buffer.Buffer, copy, 0, copy.Length);
                return copy;
            }
        }

        static AssetGenException FromPython(PythonException ex)
        {
            string type = ex.Type != null ? ex.Type.Name : "Exception";
            string traceback;
            try
            {
                traceback = ex.Format();
            }
            catch (Exception)
            {
                traceback = "";
            }
            // The PythonException itself is not kept: it holds Python objects, which are only safe
            // to touch under the GIL, and everything it says is in the type, message and traceback.
            return new AssetGenException(type, ex.Message, traceback);
        }

        static AssetGenException BridgeError(string message)
        {
            return new AssetGenException("BridgeError", message);
        }
    }
}
