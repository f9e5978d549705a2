using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using AssetGen.Bridge;
using Python.Runtime;

namespace AssetGen.Bridge.Bench
{
    /// <summary>
    /// Times requests through the bridge against the same requests made through the Python API
    /// in the same process; benchmarks/bridge_overhead.py runs it and prints the table.
    ///
    ///   mono AssetGen.Bridge.Bench.exe --python PY --baseline MODULE [--generator blob]
    ///        [--options '{"size": 64}'] [--frames 8] [--pairs 15] [--calls 20]
    ///        [--seconds 1] [--rounds 3] [--threads 1,4] [--unserialized] [--device cpu]
    ///
    /// MODULE (importable by Python) defines PythonBaseline: the Python-API side, timed inside
    /// Python. Batches of C# calls and of Python calls alternate, so that other work on the
    /// machine slows both sides alike; each ratio is the median over the pairs. Prints one JSON
    /// object.
    /// </summary>
    static class Bench
    {
        static AssetGenEngine engine;
        static PyObject baseline;

        static int Main(string[] args)
        {
            string python = null, module = null, generator = "blob", options = "{\"size\": 64}";
            string device = "cpu";
            int frames = 8, pairs = 15, calls = 20, rounds = 3;
            double seconds = 1;
            int[] threadCounts = { 1, 4 };
            bool unserialized = false;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--python": python = args[++i]; break;
                    case "--baseline": module = args[++i]; break;
                    case "--generator": generator = args[++i]; break;
                    case "--options": options = args[++i]; break;
                    case "--device": device = args[++i]; break;
                    case "--frames": frames = int.Parse(args[++i]); break;
                    case "--pairs": pairs = int.Parse(args[++i]); break;
                    case "--calls": calls = int.Parse(args[++i]); break;
                    case "--rounds": rounds = int.Parse(args[++i]); break;
                    case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--threads": threadCounts = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                    case "--unserialized": unserialized = true; break;
                    default:
                        Console.Error.WriteLine("unknown argument " + args[i]);
                        return 2;
                }
            }
            if (python == null || module == null)
            {
                Console.Error.WriteLine("--python and --baseline are required");
                return 2;
            }

            var startWatch = Stopwatch.StartNew();
            engine = AssetGenEngine.Start(new AssetGenConfig
            {
                PythonExecutable = python, Device = device, SerializePythonCalls = !unserialized,
            });
            engine.Ping();
            double startSeconds = startWatch.Elapsed.TotalSeconds;
            using (Py.GIL())
            using (var baselineModule = Py.Import(module))
                baseline = baselineModule.InvokeMethod("PythonBaseline", new PyString(generator),
                                                       new PyString(options), new PyInt(frames));

            int animationCalls = Math.Max(1, calls / frames);
            var requests = new[]
            {
                Compare("noop", pairs, calls * 50, i => engine.Ping()),
                Compare("sprite_rgba", pairs, calls, i => engine.GenerateRgba(generator, i, options)),
                Compare("sprite_png", pairs, calls, i => engine.GeneratePng(generator, i, options)),
                Compare("animate_rgba", pairs, animationCalls, i => engine.AnimateRgba(generator, i, frames, options)),
                Compare("animate_png", pairs, animationCalls, i => engine.AnimatePng(generator, i, frames, options)),
            };
            var throughput = threadCounts.Select(n => "\"" + n + "\": " +
                CompareThroughput(n, seconds, rounds, i => engine.GenerateRgba(generator, i, options)));
            Console.WriteLine("{" + string.Join(", ", new[]
            {
                Number("start_s", startSeconds),
                "\"serialized\": " + (engine.SerializesPythonCalls ? "true" : "false"),
                "\"requests\": {" + string.Join(", ", requests) + "}",
                "\"sprite_rgba_per_s_by_threads\": {" + string.Join(", ", throughput) + "}",
            }) + "}");
            return 0;
        }

        /// <summary>Per-call seconds in C# and in Python (medians) and the median of the
        /// per-pair ratios, over <paramref name="pairs"/> alternating batches.</summary>
        static string Compare(string request, int pairs, int calls, Action<long> call)
        {
            Batch(call, 0, calls);  // warm up both sides
            PythonBatch(request, 0, calls);
            var csharp = new List<double>();
            var python = new List<double>();
            var ratios = new List<double>();
            for (int p = 0; p < pairs; p++)
            {
                long first = (p + 1) * (long)calls;
                double cs, py;
                if (p % 2 == 0)
                {
                    cs = Batch(call, first, calls);
                    py = PythonBatch(request, first, calls);
                }
                else
                {
                    py = PythonBatch(request, first, calls);
                    cs = Batch(call, first, calls);
                }
                csharp.Add(cs / calls);
                python.Add(py / calls);
                ratios.Add(cs / py);
            }
            return "\"" + request + "\": {" + string.Join(", ", Number("csharp_s", Median(csharp)),
                Number("python_s", Median(python)), Number("ratio", Median(ratios))) + "}";
        }

        static double Batch(Action<long> call, long first, int calls)
        {
            var watch = Stopwatch.StartNew();
            for (long i = first; i < first + calls; i++)
                call(i);
            return watch.Elapsed.TotalSeconds;
        }

        /// <summary>Seconds the same batch takes through the Python API, timed inside Python.</summary>
        static double PythonBatch(string request, long first, int calls)
        {
            using (Py.GIL())
            using (var seconds = baseline.InvokeMethod("time", new PyString(request), new PyInt(first), new PyInt(calls)))
                return seconds.As<double>();
        }

        static string CompareThroughput(int threads, double seconds, int rounds, Action<long> call)
        {
            var csharp = new List<double>();
            var python = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                csharp.Add(Throughput(threads, seconds, call));
                using (Py.GIL())
                using (var rate = baseline.InvokeMethod("throughput", new PyInt(threads), new PyFloat(seconds)))
                    python.Add(rate.As<double>());
            }
            var ratios = csharp.Zip(python, (c, p) => c / p).ToList();
            return "{" + string.Join(", ", Number("csharp", Median(csharp)),
                Number("python", Median(python)), Number("ratio", Median(ratios))) + "}";
        }

        /// <summary>Requests per second with <paramref name="threads"/> C# threads calling for
        /// <paramref name="seconds"/> seconds.</summary>
        static double Throughput(int threads, double seconds, Action<long> call)
        {
            long done = 0;
            var stop = DateTime.MaxValue;
            var ready = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                ready.SignalAndWait();
                for (long i = t * 1000000L; DateTime.UtcNow < stop; i++)
                {
                    call(i);
                    Interlocked.Increment(ref done);
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            var watch = Stopwatch.StartNew();
            stop = DateTime.UtcNow.AddSeconds(seconds);
            ready.SignalAndWait();
            workers.ForEach(w => w.Join());
            return Interlocked.Read(ref done) / watch.Elapsed.TotalSeconds;
        }

        static double Median(List<double> values)
        {
            var sorted = values.OrderBy(v => v).ToList();
            int n = sorted.Count;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }

        static string Number(string name, double value)
        {
            return "\"" + name + "\": " + value.ToString("R", CultureInfo.InvariantCulture);
        }
    }
}
