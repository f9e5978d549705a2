using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Python.Runtime;

namespace AssetGen.Bridge.Tests
{
    /// <summary>
    /// The bridge's tests, run under Mono by tests/bridge/test_csharp.py:
    ///   mono AssetGen.Bridge.Tests.exe --python PY --expected DIR [--unserialized] GROUP...
    /// Groups: api, equality, errors, threads, domains. DIR holds what the Python API returned
    /// for the same requests. Prints one line per check and ends with "N passed, N failed";
    /// exits 1 if any check failed.
    /// </summary>
    static class BridgeTests
    {
        static string python, expected;
        static bool unserialized;

        static int Main(string[] args)
        {
            var groups = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--python") python = args[++i];
                else if (args[i] == "--expected") expected = args[++i];
                else if (args[i] == "--unserialized") unserialized = true;
                else groups.Add(args[i]);
            }
            if (python == null || expected == null || groups.Count == 0)
            {
                Console.Error.WriteLine("usage: AssetGen.Bridge.Tests.exe --python PY --expected DIR " +
                                        "[--unserialized] api|equality|errors|threads|domains...");
                return 2;
            }
            var t = new Harness();
            var known = new Dictionary<string, Action<Harness>>
            {
                { "api", Api }, { "equality", Equality }, { "errors", Errors },
                { "threads", Threads }, { "domains", Domains },
            };
            foreach (var group in groups)
            {
                Action<Harness> run;
                if (!known.TryGetValue(group, out run))
                {
                    Console.Error.WriteLine("unknown test group " + group);
                    return 2;
                }
                // A group that cannot even set up (e.g. unreadable expected results) counts as
                // one failed check instead of ending the program without a summary.
                t.Check("group " + group + " runs to the end", () => run(t));
            }
            t.Report();
            return t.Failed == 0 ? 0 : 1;
        }

        static AssetGenConfig Config()
        {
            return new AssetGenConfig
            {
                PythonExecutable = python,
                Device = "cpu",
                SerializePythonCalls = !unserialized,
            };
        }

        static string ExpectedText(string name)
        {
            return File.ReadAllText(Path.Combine(expected, name), Encoding.UTF8);
        }

        // -- every member of the public API -----------------------------------------------------

        static void Api(Harness t)
        {
            AssetGenEngine engine = null;
            t.Check("Start starts Python and an engine", () =>
            {
                engine = AssetGenEngine.Start(Config());
                Assert.Equal("cpu", engine.Device, "Device");
                Assert.Equal(!unserialized, engine.SerializesPythonCalls, "SerializesPythonCalls");
            });
            if (engine == null)
                return;
            t.Check("Start returns the running engine for the same settings", () =>
                Assert.True(ReferenceEquals(engine, AssetGenEngine.Start(Config())), "not the same engine"));
            t.Check("Start refuses other settings while an engine runs", () =>
            {
                var config = Config();
                config.Device = "auto";
                var error = Assert.Throws<AssetGenException>(() => AssetGenEngine.Start(config), "Start");
                Assert.Equal("BridgeError", error.PythonType, "PythonType");
                Assert.Contains("already running", error.Message, "message");
            });
            t.Check("Start refuses a missing or empty PythonExecutable", () =>
            {
                var config = Config();
                config.PythonExecutable = "/nonexistent/bin/python";
                var error = Assert.Throws<AssetGenException>(() => AssetGenEngine.Start(config), "missing");
                Assert.Contains("'/nonexistent/bin/python' does not exist", error.Message, "message");
                config.PythonExecutable = "";
                error = Assert.Throws<AssetGenException>(() => AssetGenEngine.Start(config), "empty");
                Assert.Contains("PythonExecutable is empty", error.Message, "message");
            });
            t.Check("Start refuses unserialized calls without preemptive suspension on Mono", () =>
            {
                var config = Config();
                config.SerializePythonCalls = false;
                if (Environment.GetEnvironmentVariable("MONO_THREADS_SUSPEND") == "preemptive")
                    return;  // allowed here; the threads group runs this mode
                var error = Assert.Throws<AssetGenException>(() => AssetGenEngine.Start(config), "Start");
                Assert.Contains("MONO_THREADS_SUSPEND=preemptive", error.Message, "message");
            });
            t.Check("Ping answers with the assetgen version", () =>
                Assert.Equal(ExpectedText("version.txt"), engine.Ping(), "version"));
            t.Check("GeneratorIds lists the loaded generators, sorted", () =>
                Assert.Equal(ExpectedText("generators.txt"), string.Join("\n", engine.GeneratorIds()), "ids"));
            t.Check("InfoJson is the engine's generator_info as JSON", () =>
                Assert.Equal(ExpectedText("info_blob.json"), engine.InfoJson("blob"), "info"));
            t.Check("GeneratePng returns PNG file bytes", () =>
            {
                var png = engine.GeneratePng("blob", 1, "{\"size\": 16}");
                Assert.Bytes(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 },
                             png.Take(8).ToArray(), "PNG signature");
            });
            t.Check("GenerateRgba returns width x height RGBA8 pixels", () =>
            {
                var image = engine.GenerateRgba("blob", 2, "{\"size\": 24}");
                Assert.Equal(24, image.Width, "width");
                Assert.Equal(24, image.Height, "height");
                Assert.Equal(24 * 24 * 4, image.Pixels.Length, "bytes");
                Assert.True(image.Pixels.Where((b, i) => i % 4 == 3).Any(a => a == 255), "no opaque pixel");
                Assert.True(image.Pixels.Where((b, i) => i % 4 == 3).Any(a => a == 0), "no transparent pixel");
            });
            t.Check("RowsBottomToTop reverses the rows for Unity textures", () =>
            {
                var pixels = new byte[2 * 3 * 4];
                for (int i = 0; i < pixels.Length; i++)
                    pixels[i] = (byte)i;
                var flipped = new RgbaImage(2, 3, pixels).RowsBottomToTop();
                Assert.Bytes(pixels.Skip(16).Concat(pixels.Skip(8).Take(8)).Concat(pixels.Take(8)).ToArray(),
                             flipped, "flipped rows");
            });
            t.Check("RgbaImage refuses pixels of the wrong size", () =>
                Assert.Throws<ArgumentException>(() => new RgbaImage(2, 2, new byte[15]), "RgbaImage"));
            t.Check("AnimatePng returns one PNG per frame", () =>
            {
                var frames = engine.AnimatePng("blob", 3, 8, "{\"size\": 16}");
                Assert.Equal(8, frames.Length, "frames");
                Assert.True(frames.All(f => f[1] == (byte)'P' && f[2] == (byte)'N'), "not PNG");
                Assert.True(frames.Select(Convert.ToBase64String).Distinct().Count() > 1, "frames all equal");
            });
            t.Check("AnimateRgba returns same-sized frames", () =>
            {
                var frames = engine.AnimateRgba("blob", 3, 6, "{\"size\": 20, \"speed\": 2.0}");
                Assert.Equal(6, frames.Length, "frames");
                Assert.True(frames.All(f => f.Width == 20 && f.Height == 20 && f.Pixels.Length == 1600),
                            "frame size");
            });
            t.Check("AnimatePng and AnimateRgba without a frame count let the generator decide", () =>
            {
                var pngs = engine.AnimatePng("blob", 3, "{\"size\": 16}");
                var given = engine.AnimatePng("blob", 3, 8, "{\"size\": 16}");
                Assert.Equal(8, pngs.Length, "frames (the test kit's blob has no opinion)");
                for (int k = 0; k < 8; k++)
                    Assert.Bytes(given[k], pngs[k], "frame " + k);
                Assert.Equal(8, engine.AnimateRgba("blob", 3, "{\"size\": 16}").Length, "raw frames");
            });
            t.Check("GenerateText follows the seeding rule (line k uses seed + k)", () =>
            {
                var lines = engine.GenerateText("echo", 5, 3, "{\"words\": 4}");
                Assert.Equal(3, lines.Length, "lines");
                for (int k = 0; k < 3; k++)
                    Assert.Equal(engine.GenerateText("echo", 5 + k, 1, "{\"words\": 4}")[0], lines[k], "line " + k);
            });
            t.Check("null, empty, {} and null JSON all mean the default options", () =>
            {
                var reference = engine.GeneratePng("blob", 9, "{}");
                foreach (var options in new[] { null, "", "  ", "null" })
                    Assert.Bytes(reference, engine.GeneratePng("blob", 9, options), "options <" + options + ">");
            });
            t.Check("seeds reach long.MaxValue", () =>
                Assert.True(engine.GeneratePng("blob", long.MaxValue, null).Length > 8, "no PNG"));
            t.Check("a null generator id is an ArgumentNullException", () =>
                Assert.Throws<ArgumentNullException>(() => engine.GeneratePng(null, 1, null), "null id"));
            t.Check("Dispose releases the engine and Start makes a new one in the same Python", () =>
            {
                engine.Dispose();
                engine.Dispose();
                Assert.Throws<ObjectDisposedException>(() => engine.Ping(), "Ping after Dispose");
                var again = AssetGenEngine.Start(Config());
                Assert.True(!ReferenceEquals(engine, again), "Start returned the disposed engine");
                Assert.Equal(1, LiveBridges(), "Python bridge objects alive");
                Assert.Equal(ExpectedText("version.txt"), again.Ping(), "Ping on the new engine");
                engine = again;
            });
        }

        // -- the bridge's output is the Python API's, byte for byte ----------------------------

        static void Equality(Harness t)
        {
            var engine = AssetGenEngine.Start(Config());
            foreach (var c in Case.Load(expected))
                t.Check("same bytes as the Python API: " + c.Id, () => c.Verify(engine));
        }

        // -- errors arrive as AssetGenException with the engine's message ----------------------

        static void Errors(Harness t)
        {
            var engine = AssetGenEngine.Start(Config());
            var working = Case.Load(expected)[0];
            foreach (var e in ErrorCase.Load(expected))
            {
                t.Check("error " + e.Id + " is " + e.PythonType + " with the engine's message", () => e.Verify(engine));
                t.Check("engine keeps working after " + e.Id, () => working.Verify(engine));
            }
        }

        // -- 8 threads x 50 mixed requests --------------------------------------------------------

        static void Threads(Harness t)
        {
            const int threads = 8, perThread = 50;
            var engine = AssetGenEngine.Start(Config());
            var cases = Case.Load(expected);
            var errors = ErrorCase.Load(expected);
            var failures = new ConcurrentQueue<string>();
            int done = 0;
            var start = new Barrier(threads);
            var watch = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < perThread; i++)
                {
                    int r = w * perThread + i;
                    try
                    {
                        if (r % 5 == 4)
                            errors[r % errors.Count].Verify(engine);
                        else
                            cases[r % cases.Count].Verify(engine);
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue(string.Format("thread {0} request {1}: {2}", w, i, ex.Message));
                    }
                    Interlocked.Increment(ref done);
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            t.Check(string.Format("{0} threads x {1} mixed requests (serialized calls: {2})",
                                  threads, perThread, engine.SerializesPythonCalls), () =>
            {
                foreach (var w in workers)
                    Assert.True(w.Join(TimeSpan.FromMinutes(4)), "a thread did not finish within 4 minutes");
                Console.WriteLine(string.Format("  {0} requests in {1:F2} s", done, watch.Elapsed.TotalSeconds));
                Assert.Equal(threads * perThread, done, "requests done");
                Assert.True(failures.IsEmpty, failures.Count + " wrong results, e.g. " + failures.FirstOrDefault());
            });
        }

        // -- Unity's domain reload, simulated with Mono AppDomains --------------------------------

        const int DomainRounds = 3;

        static void Domains(Harness t)
        {
            string previous = null;
            for (int round = 0; round < DomainRounds; round++)
            {
                string name = "assetgen-reload-" + round;
                t.Check("AppDomain round " + round + ": start, use, unload", () =>
                {
                    var domain = AppDomain.CreateDomain(name, null, AppDomain.CurrentDomain.SetupInformation);
                    DomainRound result;
                    try
                    {
                        var worker = (DomainWorker)domain.CreateInstanceAndUnwrap(
                            typeof(DomainWorker).Assembly.FullName, typeof(DomainWorker).FullName);
                        result = worker.Run(python, expected, unserialized);
                    }
                    finally
                    {
                        AppDomain.Unload(domain);
                    }
                    Assert.Equal(name, result.Domain, "ran in");
                    Assert.True(result.Failures.Length == 0, string.Join("; ", result.Failures));
                    // The same interpreter each round: Python is not finalized and started again.
                    Assert.Equal(previous, result.PreviousDomain, "the domain Python last saw");
                    previous = name;
                });
            }
            t.Check("after the reloads the first domain starts and uses the bridge", () =>
            {
                var engine = AssetGenEngine.Start(Config());
                foreach (var c in Case.Load(expected))
                    c.Verify(engine);
                ErrorCase.Load(expected)[0].Verify(engine);
            });
            t.Check("engines of unloaded domains were released in Python", () =>
                Assert.Equal(1, LiveBridges(), "Python bridge objects alive"));
        }

        /// <summary>How many assetgen.bridge.Bridge objects Python holds (after a collection).</summary>
        internal static int LiveBridges()
        {
            using (Py.GIL())
            using (var count = PythonEngine.Eval(
                "__import__('gc').collect() * 0 + sum(1 for o in __import__('gc').get_objects() " +
                "if type(o).__module__ == 'assetgen.bridge' and type(o).__name__ == 'Bridge')"))
                return count.As<int>();
        }
    }

    [Serializable]
    public sealed class DomainRound
    {
        public string Domain, PreviousDomain;
        public string[] Failures;
    }

    /// <summary>Runs inside a child AppDomain, as a Unity script runs until the next reload.</summary>
    public sealed class DomainWorker : MarshalByRefObject
    {
        public DomainRound Run(string python, string expected, bool unserialized)
        {
            var failures = new List<string>();
            var engine = AssetGenEngine.Start(new AssetGenConfig
            {
                PythonExecutable = python, Device = "cpu", SerializePythonCalls = !unserialized,
            });
            foreach (var c in Case.Load(expected))
                Try(failures, c.Id, () => c.Verify(engine));
            var error = ErrorCase.Load(expected)[0];
            Try(failures, error.Id, () => error.Verify(engine));
            string previous;
            using (Py.GIL())
            {
                using (var seen = PythonEngine.Eval(
                    "getattr(__import__('builtins'), '_assetgen_reload_test_domain', None)"))
                    previous = seen.IsNone() ? null : seen.As<string>();
                using (var scope = Py.CreateScope())
                {
                    scope.Set("name", AppDomain.CurrentDomain.FriendlyName);
                    scope.Exec("import builtins; builtins._assetgen_reload_test_domain = name");
                }
            }
            return new DomainRound
            {
                Domain = AppDomain.CurrentDomain.FriendlyName,
                PreviousDomain = previous,
                Failures = failures.ToArray(),
            };
        }

        static void Try(List<string> failures, string what, Action body)
        {
            try
            {
                body();
            }
            catch (Exception ex)
            {
                failures.Add(what + ": " + ex.Message);
            }
        }
    }
}
