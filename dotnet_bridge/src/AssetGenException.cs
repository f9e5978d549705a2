using System;
using System.Runtime.Serialization;

namespace AssetGen.Bridge
{
    /// <summary>An error from the engine (or from starting Python), with the engine's own
    /// message: which parameter, which value, and what is allowed.</summary>
    [Serializable]
    public sealed class AssetGenException : Exception
    {
        /// <summary>The Python exception's type name, e.g. <c>InvalidOptionsError</c>,
        /// <c>UnknownGeneratorError</c>, <c>ModelError</c>, <c>PluginError</c> (see
        /// <c>assetgen.errors</c>); <c>BridgeError</c> for errors raised on the C# side.</summary>
        public string PythonType { get; private set; }

        /// <summary>The Python traceback, for bug reports; empty for C#-side errors.</summary>
        public string PythonTraceback { get; private set; }

        /// <summary>An error of Python type <paramref name="pythonType"/> (or
        /// <c>BridgeError</c>) with the engine's message.</summary>
        public AssetGenException(string pythonType, string message, string pythonTraceback = "",
                                 Exception inner = null)
            : base(message, inner)
        {
            PythonType = pythonType;
            PythonTraceback = pythonTraceback ?? "";
        }

        private AssetGenException(SerializationInfo info, StreamingContext context)
            : base(info, context)
        {
            PythonType = info.GetString("PythonType");
            PythonTraceback = info.GetString("PythonTraceback");
        }

        /// <summary>Serialises the Python type and traceback too (errors cross AppDomains).</summary>
        public override void GetObjectData(SerializationInfo info, StreamingContext context)
        {
            base.GetObjectData(info, context);
            info.AddValue("PythonType", PythonType);
            info.AddValue("PythonTraceback", PythonTraceback);
        }

        /// <summary><c>PythonType: message</c>, the form the engine's errors are shown in.</summary>
        public override string ToString()
        {
            return PythonType + ": " + Message;
        }
    }
}
