// A verified model folder (Python: assetgen.runtime.verify_model_dir / ModelBundle): its
// manifest.json, every file it lists checked against its sha256 before anything runs, and
// ONNX sessions made on first use from bytes checked again as they are read.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace AssetGen.Runtime
{
    public sealed class ModelFolder : IDisposable
    {
        public const string ManifestName = "manifest.json";

        readonly Dictionary<string, OnnxSession> sessions = new Dictionary<string, OnnxSession>(StringComparer.Ordinal);
        readonly object sessionLock = new object();
        readonly Dictionary<string, string> fileSha = new Dictionary<string, string>(StringComparer.Ordinal);

        readonly Func<string, byte[]> readFile;

        /// <summary>The folder (absolute), or the label a reader-based folder was given.</summary>
        public string Directory { get; }
        /// <summary>manifest.json, parsed (see <see cref="Json"/>).</summary>
        public Dictionary<string, object> Manifest { get; }
        /// <summary>sha256 of manifest.json: the model's identity (Python: bundle.sha256).</summary>
        public string Sha256 { get; }
        public SessionSettings Settings { get; }

        /// <summary>Reads the manifest of a folder on disk and verifies every file it lists; a
        /// <see cref="ModelException"/> names the file that is missing or differs.</summary>
        public ModelFolder(string directory, SessionSettings settings = null)
            : this(Path.GetFullPath(directory), null, settings)
        {
        }

        /// <summary>A model whose files come from <paramref name="readFile"/> (file name ->
        /// bytes; throw <see cref="FileNotFoundException"/> for a missing file): for Unity,
        /// TextAssets, or StreamingAssets read with UnityWebRequest on Android, where they are
        /// not files. <paramref name="label"/> names the model in messages. The same checks as
        /// for a folder on disk.</summary>
        public ModelFolder(string label, Func<string, byte[]> readFile, SessionSettings settings = null)
        {
            if (label == null) throw new ArgumentNullException(nameof(label));
            Directory = label;
            string root = label;
            this.readFile = readFile ?? (name => File.ReadAllBytes(Path.Combine(root, name)));
            Settings = settings ?? new SessionSettings();
            string manifestPath = Where(ManifestName);
            byte[] manifestBytes;
            try
            {
                manifestBytes = this.readFile(ManifestName);
            }
            catch (FileNotFoundException) { throw new ModelException("model manifest not found: " + manifestPath); }
            catch (DirectoryNotFoundException) { throw new ModelException("model manifest not found: " + manifestPath); }
            catch (IOException ex) { throw new ModelException("model manifest " + manifestPath + " is unreadable: " + ex.Message); }
            catch (UnauthorizedAccessException ex) { throw new ModelException("model manifest " + manifestPath + " is unreadable: " + ex.Message); }
            object parsed;
            try
            {
                parsed = Json.Parse(new UTF8Encoding(false, true).GetString(manifestBytes));
            }
            catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
            {
                throw new ModelException("model manifest " + manifestPath + " is unreadable: " + ex.Message);
            }
            var manifest = parsed as Dictionary<string, object>;
            object filesValue = null;
            if (manifest != null) manifest.TryGetValue("files", out filesValue);
            var files = filesValue as Dictionary<string, object>;
            if (files == null || files.Count == 0)
                throw new ModelException("model manifest " + manifestPath + " has no 'files' table");
            foreach (var kv in files)
            {
                var entry = kv.Value as Dictionary<string, object>;
                object sha = null;
                if (entry != null) entry.TryGetValue("sha256", out sha);
                string name = kv.Key;
                if (!(sha is string) || name.Contains("/") || name.Contains("\\") || name.StartsWith(".", StringComparison.Ordinal))
                    throw new ModelException("model manifest " + manifestPath + ": bad entry for file " + PyText.Show(PyText.Repr(name)));
                fileSha[name] = (string)sha;
            }
            foreach (var kv in fileSha)
            {
                string actual = Hex(Read(kv.Key, kv.Value));
                if (actual != kv.Value)
                    throw new ModelException("model file " + Where(kv.Key) + " does not match its manifest: sha256 is " + actual + ", expected " + kv.Value + "; the file is corrupted or was replaced");
            }
            Manifest = manifest;
            Sha256 = Hex(manifestBytes);
        }

        string Where(string name)
        {
            return Path.Combine(Directory, name);
        }

        // a listed file's bytes; a missing or unreadable one is a ModelException naming it
        byte[] Read(string name, string expected)
        {
            try
            {
                return readFile(name);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new ModelException("model file missing: " + Where(name) + " (expected sha256 " + expected + ")");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new ModelException("model file " + Where(name) + " cannot be read (" + ex.Message + "); expected sha256 " + expected);
            }
        }

        /// <summary>The bytes of a file the manifest lists (another name is refused), checked
        /// against its sha256 as they are read.</summary>
        public byte[] ReadFile(string name)
        {
            string expected;
            if (!fileSha.TryGetValue(name, out expected))
                throw new ModelException(Where(ManifestName) + " lists no file named " + PyText.Repr(name));
            byte[] bytes = Read(name, expected);
            string actual = Hex(bytes);
            if (actual != expected)
                throw new ModelException("model file " + Where(name) + " changed after it was verified: sha256 is " + actual + ", expected " + expected + "; the file is corrupted or was replaced");
            return bytes;
        }

        static string Hex(byte[] data)
        {
            using (var sha = SHA256.Create()) return ToHex(sha.ComputeHash(data));
        }

        static string ToHex(byte[] hash)
        {
            var sb = new StringBuilder(hash.Length * 2);
            foreach (byte b in hash) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        /// <summary>The ONNX session of a listed file: read once, checked against its sha256
        /// (a file replaced after the folder was verified is refused), then shared.</summary>
        public OnnxSession Session(string name)
        {
            lock (sessionLock)
            {
                OnnxSession session;
                if (sessions.TryGetValue(name, out session)) return session;
                byte[] bytes = ReadFile(name);
                try
                {
                    session = new OnnxSession(bytes, name, Settings);
                }
                catch (OnnxRuntimeException ex) when (!ex.LibraryMissing)
                {
                    throw new ModelException(Where(name) + ": ONNX Runtime could not load the model: " + ex.Message, ex);
                }
                sessions[name] = session;
                return session;
            }
        }

        public void Dispose()
        {
            lock (sessionLock)
            {
                foreach (var s in sessions.Values) s.Dispose();
                sessions.Clear();
            }
        }
    }

    /// <summary>Typed reads of manifest fields; a wrong or missing field is a
    /// <see cref="ModelException"/> naming the file and the field.</summary>
    public static class ManifestFields
    {
        public static ModelException Bad(string field, string why, string file = "manifest.json")
        {
            return new ModelException(file + ": field '" + field + "' " + why);
        }

        public static object Get(Dictionary<string, object> obj, string key, string field)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value)) throw Bad(field, "is missing");
            return value;
        }

        public static Dictionary<string, object> Object(object value, string field)
        {
            var d = value as Dictionary<string, object>;
            if (d == null) throw Bad(field, "must be an object");
            return d;
        }

        public static List<object> Array(object value, string field)
        {
            var a = value as List<object>;
            if (a == null) throw Bad(field, "must be an array");
            return a;
        }

        public static string String(object value, string field)
        {
            if (value is string s) return s;
            if (value is long || value is double) return Convert.ToString(value, CultureInfo.InvariantCulture);
            throw Bad(field, "must be text");
        }

        public static double Number(object value, string field)
        {
            if (value is long l) return l;
            if (value is double d) return d;
            throw Bad(field, "must be a number; got " + Describe(value));
        }

        public static int NonNegativeInt(Dictionary<string, object> manifest, string field, int? fallback = null)
        {
            object value;
            if (!manifest.TryGetValue(field, out value))
            {
                if (fallback.HasValue) return fallback.Value;
                value = null;
            }
            if (value is long l && l >= 0 && l <= int.MaxValue) return (int)l;
            throw new ModelException("manifest.json: field '" + field + "' must be a non-negative integer; got " + Describe(value));
        }

        public static string Describe(object value)
        {
            if (value == null) return "None";
            if (value is string s) return PyText.Show(PyText.Repr(s));
            if (value is bool b) return b ? "True" : "False";
            if (value is long l) return l.ToString(CultureInfo.InvariantCulture);
            if (value is double d) return PyText.Repr(d);
            if (value is List<object>) return "a list";
            return "an object";
        }
    }
}
