// The C# side of tests/runtime/test_portraits_parity.py: makes the sprites a request file
// asks for with AssetGen.Runtime (no Python), and writes them for the test to compare with
// the Python API's.
//
//   mono AssetGen.Runtime.Parity.exe MODEL_DIR REQUESTS.json OUT_DIR [THREADS]
//
// REQUESTS.json: [{"id": "a", "seeds": [1, 2], "options": {"hair": "long03", "truncation":
// 0.7, "mix_seed": 5, "mix_layer": 3, "attributes": {"skin_dark": 1.0}}}, ...]. For each
// request OUT_DIR/<id>.rgba holds the sprites one after the other (H x W x 4 bytes each);
// OUT_DIR/results.json maps each id to its width, height and label sets, or to the error
// (type, message, parameter). Exit code 0 when every request was answered, 3 when the model
// folder is refused (the ModelException's message on stdout).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using AssetGen.Runtime;

static class PortraitParity
{
    static string Quote(string s)
    {
        if (s == null) return "null";
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    static PortraitOptions Options(Dictionary<string, object> spec)
    {
        var options = new PortraitOptions();
        if (spec == null) return options;
        foreach (var kv in spec)
        {
            switch (kv.Key)
            {
                case "truncation": options.Truncation = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                case "mix_seed": options.MixSeed = (long)kv.Value; break;
                case "mix_layer": options.MixLayer = (int)(long)kv.Value; break;
                case "attributes":
                    foreach (var a in (Dictionary<string, object>)kv.Value)
                        options.Attributes[a.Key] = Convert.ToDouble(a.Value, CultureInfo.InvariantCulture);
                    break;
                default: options.Labels[kv.Key] = (string)kv.Value; break;
            }
        }
        return options;
    }

    static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: AssetGen.Runtime.Parity.exe MODEL_DIR REQUESTS.json OUT_DIR [THREADS]");
            return 2;
        }
        var settings = new SessionSettings();
        if (args.Length > 3) settings.IntraOpThreads = int.Parse(args[3], CultureInfo.InvariantCulture);
        Directory.CreateDirectory(args[2]);
        var results = new List<string>();
        var requests = (List<object>)Json.Parse(File.ReadAllText(args[1]));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        PortraitsGenerator loaded;
        try
        {
            loaded = new PortraitsGenerator(args[0], settings);
        }
        catch (ModelException ex)
        {
            Console.WriteLine("ModelException: " + ex.Message);
            return 3;
        }
        using (var generator = loaded)
        {
            Console.WriteLine("ONNX Runtime " + OnnxSession.RuntimeVersion + "; model loaded in " + watch.ElapsedMilliseconds + " ms");
            foreach (object r in requests)
            {
                var request = (Dictionary<string, object>)r;
                string id = (string)request["id"];
                var seeds = new List<long>();
                foreach (object s in (List<object>)request["seeds"]) seeds.Add((long)s);
                object spec;
                request.TryGetValue("options", out spec);
                try
                {
                    var images = generator.GenerateBatch(seeds, Options(spec as Dictionary<string, object>));
                    using (var file = File.Create(Path.Combine(args[2], id + ".rgba")))
                        foreach (var image in images) file.Write(image.Rgba, 0, image.Rgba.Length);
                    var labels = new List<string>();
                    foreach (var image in images)
                    {
                        var pairs = new List<string>();
                        foreach (var kv in image.Labels) pairs.Add(Quote(kv.Key) + ": " + Quote(kv.Value));
                        labels.Add("{" + string.Join(", ", pairs) + "}");
                    }
                    results.Add(Quote(id) + ": {\"width\": " + images[0].Width + ", \"height\": " + images[0].Height + ", \"labels\": [" + string.Join(", ", labels) + "]}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(Quote(id) + ": {\"error\": {\"type\": \"InvalidOptionsError\", \"message\": " + Quote(ex.Message) + ", \"parameter\": " + Quote(ex.Parameter) + "}}");
                }
            }
        }
        File.WriteAllText(Path.Combine(args[2], "results.json"), "{" + string.Join(",\n", results) + "}\n");
        Console.WriteLine(requests.Count + " requests in " + watch.ElapsedMilliseconds + " ms");
        return 0;
    }
}
