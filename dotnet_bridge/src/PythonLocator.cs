using System;
using System.Diagnostics;
using System.IO;

namespace AssetGen.Bridge
{
    /// <summary>Asks a Python executable where its shared library is.</summary>
    internal static class PythonLocator
    {
        // Read from standard input so that no quoting of a command line is involved. A virtual
        // environment has no library of its own: it is in the base installation's LIBDIR (or,
        // on Windows, next to the base python.exe). A static libpython (.a) cannot be loaded.
        const string Script = @"
import os, sys, sysconfig
major, minor = sys.version_info[:2]
if os.name == 'nt':
    names = [os.path.join(sys.base_prefix, 'python%d%d.dll' % (major, minor))]
else:
    libdir = sysconfig.get_config_var('LIBDIR') or ''
    ext = '.dylib' if sys.platform == 'darwin' else '.so'
    names = [os.path.join(libdir, n) for n in (sysconfig.get_config_var('LDLIBRARY'),
             sysconfig.get_config_var('INSTSONAME'), 'libpython%d.%d%s' % (major, minor, ext)) if n]
found = [n for n in names if os.path.isfile(n) and not n.endswith('.a')]
print(found[0] if found else '')
";

        public static string SharedLibrary(string pythonExecutable)
        {
            var start = new ProcessStartInfo(pythonExecutable, "-")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            string output, errors;
            int exitCode;
            try
            {
                using (var process = Process.Start(start))
                {
                    process.StandardInput.Write(Script);
                    process.StandardInput.Close();
                    var stderrTask = process.StandardError.ReadToEndAsync();
                    output = process.StandardOutput.ReadToEnd().Trim();
                    errors = stderrTask.Result.Trim();
                    process.WaitForExit();
                    exitCode = process.ExitCode;
                }
            }
            catch (Exception ex) when (!(ex is AssetGenException))
            {
                throw new AssetGenException("BridgeError", string.Format(
                    "could not run PythonExecutable '{0}' to find its shared library: {1}",
                    pythonExecutable, ex.Message), "", ex);
            }
            if (exitCode != 0)
                throw new AssetGenException("BridgeError", string.Format(
                    "PythonExecutable '{0}' failed (exit {1}) while looking for its shared " +
                    "library: {2}", pythonExecutable, exitCode, errors));
            if (output.Length == 0 || !File.Exists(output))
                throw new AssetGenException("BridgeError", string.Format(
                    "PythonExecutable '{0}' has no shared Python library (it was built without " +
                    "--enable-shared?); set AssetGenConfig.PythonDll to a libpython/pythonXY.dll " +
                    "of the same version", pythonExecutable));
            return output;
        }
    }
}
