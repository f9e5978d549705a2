// The dialogue half of the parity program (see PortraitParity.cs): used when the model
// folder's manifest says "generator": "dialogue". Requests: {"id", "seeds", "options": {the
// Python option names: "archetype", "temperature", "top_k", "by_sentence", ...}}; results:
// each line's text, speaker and metadata (score written with 17 significant digits), or the
// error (type, message, parameter).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using AssetGen.Runtime;

static class DialogueParity
{
    static DialogueOptions Options(Dictionary<string, object> spec)
    {
        var o = new DialogueOptions();
        if (spec == null) return o;
        foreach (var kv in spec)
        {
            object v = kv.Value;
            switch (kv.Key)
            {
                case "archetype": o.Archetype = (string)v; break;
                case "source": o.Source = (string)v; break;
                case "race": o.Race = (string)v; break;
                case "length": o.Length = (string)v; break;
                case "temperature": o.Temperature = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
                case "top_k": o.TopK = (int)(long)v; break;
                case "top_p": o.TopP = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
                case "max_chars": o.MaxChars = (int)(long)v; break;
                case "prompt": o.Prompt = (string)v; break;
                case "candidates": o.Candidates = (int)(long)v; break;
                case "rerank": o.Rerank = (string)v; break;
                case "min_chars": o.MinChars = (int)(long)v; break;
                case "filters": o.Filters = (bool)v; break;
                case "slip_checks": o.SlipChecks = (bool)v; break;
                case "word_mask": o.WordMask = (bool)v; break;
                case "source_words": o.SourceWords = (bool)v; break;
                case "by_sentence": o.BySentence = (bool)v; break;
                case "sentence_rerank": o.SentenceRerank = (string)v; break;
                case "sentence_temperature": o.SentenceTemperature = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
                case "name": o.Name = (string)v; break;
                case "place": o.Place = (string)v; break;
                case "archetype_guidance": o.ArchetypeGuidance = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException("unknown dialogue option " + kv.Key);
            }
        }
        return o;
    }

    static string List(IEnumerable<string> items)
    {
        var quoted = new List<string>();
        foreach (string s in items) quoted.Add(PortraitParity.Quote(s));
        return "[" + string.Join(", ", quoted) + "]";
    }

    public static string LineJson(DialogueLine l)
    {
        return "{\"seed\": " + l.Seed + ", \"text\": " + PortraitParity.Quote(l.Text) + ", \"speaker\": " + PortraitParity.Quote(l.Speaker)
            + ", \"archetype\": " + PortraitParity.Quote(l.Archetype) + ", \"source\": " + PortraitParity.Quote(l.Source)
            + ", \"race\": " + PortraitParity.Quote(l.Race) + ", \"length\": " + PortraitParity.Quote(l.Length)
            + ", \"stop\": " + PortraitParity.Quote(l.Stop) + ", \"candidates\": " + l.Candidates + ", \"chosen\": " + l.Chosen
            + ", \"score\": " + l.Score.ToString("G17", CultureInfo.InvariantCulture) + ", \"placeholders\": " + List(l.Placeholders)
            + ", \"faults\": " + List(l.Faults) + ", \"sentences\": " + l.Sentences + ", \"license\": " + PortraitParity.Quote(l.License) + "}";
    }

    public static int Run(string model, string requestsPath, string outDir, SessionSettings settings)
    {
        var results = new List<string>();
        var requests = (List<object>)Json.Parse(File.ReadAllText(requestsPath));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        DialogueGenerator loaded;
        try
        {
            loaded = new DialogueGenerator(model, settings);
        }
        catch (ModelException ex)
        {
            Console.WriteLine("ModelException: " + ex.Message);
            return 3;
        }
        catch (OnnxRuntimeException ex)
        {
            Console.WriteLine("OnnxRuntimeException: " + ex.Message);
            return 4;
        }
        using (var generator = loaded)
        {
            Console.WriteLine("dialogue model loaded in " + watch.ElapsedMilliseconds + " ms");
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
                    var started = watch.ElapsedMilliseconds;
                    var lines = generator.GenerateBatch(seeds, Options(spec as Dictionary<string, object>));
                    var items = new List<string>();
                    foreach (var line in lines) items.Add(LineJson(line));
                    results.Add(PortraitParity.Quote(id) + ": {\"ms\": " + (watch.ElapsedMilliseconds - started) + ", \"lines\": [" + string.Join(",\n  ", items) + "]}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(PortraitParity.Quote(id) + ": {\"error\": {\"type\": \"InvalidOptionsError\", \"message\": " + PortraitParity.Quote(ex.Message) + ", \"parameter\": " + PortraitParity.Quote(ex.Parameter) + "}}");
                }
            }
        }
        File.WriteAllText(Path.Combine(outDir, "results.json"), "{" + string.Join(",\n", results) + "}\n");
        Console.WriteLine(requests.Count + " requests in " + watch.ElapsedMilliseconds + " ms");
        return 0;
    }
}
