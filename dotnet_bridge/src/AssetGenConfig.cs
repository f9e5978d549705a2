using System;

namespace AssetGen.Bridge
{
    /// <summary>How <see cref="AssetGenEngine.Start"/> finds and runs Python.</summary>
    /// <remarks>Public fields (not properties) so that Unity can show and save the settings
    /// in the inspector.</remarks>
    [Serializable]
    public sealed class AssetGenConfig
    {
        /// <summary>The <c>python</c> (or <c>python.exe</c>) of the environment where the
        /// <c>assetgen</c> package is installed, usually a virtual environment. Python's
        /// <c>sys.prefix</c>, and so its <c>site-packages</c>, are taken from it.</summary>
        public string PythonExecutable;

        /// <summary>The Python shared library (<c>libpython3.11.so</c>,
        /// <c>python311.dll</c>, <c>libpython3.11.dylib</c>). Leave empty to ask
        /// <see cref="PythonExecutable"/> where its own is.</summary>
        public string PythonDll;

        /// <summary>Where the generators run: <c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
        public string Device = "auto";

        /// <summary>Let only one C# thread into Python at a time (the default). Python runs
        /// one thread at a time anyway (the GIL); this lock is what keeps several C# threads
        /// from deadlocking Mono's garbage collector, which cannot suspend a thread that waits
        /// for the GIL under Mono's default (cooperative/hybrid) thread suspension. Turn it off
        /// only where threads are suspended preemptively (Mono started with
        /// <c>MONO_THREADS_SUSPEND=preemptive</c>, or .NET Core); <see cref="AssetGenEngine.Start"/>
        /// refuses to turn it off on Mono otherwise.</summary>
        public bool SerializePythonCalls = true;

        internal AssetGenConfig Copy()
        {
            return (AssetGenConfig)MemberwiseClone();
        }
    }
}
