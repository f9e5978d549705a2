// The dialogue half of the parity program (see PortraitParity.cs): used when the model
// folder's manifest says "generator": "dialogue". Requests: {"id", "seeds", "options": {the
// Python option names: "archetype", "temperature", "top_k", "by_sentence", ...}}; results:
// each line's text, speaker and metadata (score written with 17 significant digits), or the
// error (type, message, parameter). A request with "defaults": true gets the options'
// defaults instead, by their Python names ({"ms": 0, "defaults": {...}}). The folder may hold
// either dialogue model (DialogueGenerator.Open): the GPT or the character LSTM, whose lines
// leave source, race and length null and the score NaN. A "model" option is ignored (Python's
// model by name; here the folder path chose it).
using System;
using System.Collections.Generic;
using System.Globalization;
using AssetGen.Runtime;
using static ParityIO;

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
                case "rounds": o.Rounds = (int)(long)v; break;
                case "accept": o.Accept = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
                case "give_up": o.GiveUp = Convert.ToDouble(v, CultureInfo.InvariantCulture); break;
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
                case "model": break;   // Python's model by name: here the folder path chose it
                default: throw new ArgumentException("unknown dialogue option " + kv.Key);
            }
        }
        return o;
    }

    /// <summary>The defaults of DialogueOptions by the Python option names.</summary>
    static string DefaultsJson()
    {
        var o = new DialogueOptions();
        Func<double, string> num = x => x.ToString("R", CultureInfo.InvariantCulture);
        Func<bool, string> flag = x => x ? "true" : "false";
        return "{\"archetype\": " + Quote(o.Archetype) + ", \"source\": " + Quote(o.Source)
            + ", \"race\": " + Quote(o.Race) + ", \"length\": " + Quote(o.Length)
            + ", \"temperature\": " + num(o.Temperature) + ", \"top_k\": " + o.TopK
            + ", \"top_p\": " + num(o.TopP) + ", \"max_chars\": " + o.MaxChars
            + ", \"prompt\": " + Quote(o.Prompt) + ", \"candidates\": " + o.Candidates
            + ", \"rounds\": " + o.Rounds + ", \"accept\": " + num(o.Accept) + ", \"give_up\": " + num(o.GiveUp)
            + ", \"rerank\": " + Quote(o.Rerank) + ", \"min_chars\": " + o.MinChars
            + ", \"filters\": " + flag(o.Filters) + ", \"slip_checks\": " + flag(o.SlipChecks)
            + ", \"word_mask\": " + flag(o.WordMask) + ", \"source_words\": " + flag(o.SourceWords)
            + ", \"by_sentence\": " + flag(o.BySentence) + ", \"sentence_rerank\": " + Quote(o.SentenceRerank)
            + ", \"sentence_temperature\": " + num(o.SentenceTemperature) + ", \"name\": " + Quote(o.Name)
            + ", \"place\": " + Quote(o.Place) + ", \"archetype_guidance\": " + num(o.ArchetypeGuidance) + "}";
    }

    public static string LineJson(DialogueLine l)
    {
        return "{\"seed\": " + l.Seed + ", \"text\": " + Quote(l.Text) + ", \"speaker\": " + Quote(l.Speaker)
            + ", \"archetype\": " + Quote(l.Archetype) + ", \"source\": " + Quote(l.Source)
            + ", \"race\": " + Quote(l.Race) + ", \"length\": " + Quote(l.Length)
            + ", \"stop\": " + Quote(l.Stop) + ", \"candidates\": " + l.Candidates + ", \"chosen\": " + l.Chosen
            + ", \"score\": " + l.Score.ToString("G17", CultureInfo.InvariantCulture) + ", \"placeholders\": " + QuoteAll(l.Placeholders)
            + ", \"faults\": " + QuoteAll(l.Faults) + ", \"sentences\": " + l.Sentences
            + ", \"rounds\": " + l.Rounds + ", \"license\": " + Quote(l.License) + "}";
    }

    public static int Run(string model, string requestsPath, string outDir, SessionSettings settings)
    {
        var results = new List<string>();
        var requests = Requests(requestsPath);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // the GPT or the character LSTM, by the manifest's "architecture" (as Python chooses)
        IDialogueGenerator loaded;
        int refused = Load(() => DialogueGenerator.Open(model, settings), out loaded);
        if (refused != 0) return refused;
        using (var generator = loaded)
        {
            Console.WriteLine("dialogue model loaded in " + watch.ElapsedMilliseconds + " ms");
            foreach (var request in Each(requests))
            {
                if (request.Fields.ContainsKey("defaults"))
                {
                    results.Add(Quote(request.Id) + ": {\"ms\": 0, \"defaults\": " + DefaultsJson() + "}");
                    continue;
                }
                try
                {
                    var started = watch.ElapsedMilliseconds;
                    var lines = generator.GenerateBatch(request.Seeds, Options(request.Options));
                    var items = new List<string>();
                    foreach (var line in lines) items.Add(LineJson(line));
                    results.Add(Quote(request.Id) + ": {\"ms\": " + (watch.ElapsedMilliseconds - started) + ", \"lines\": [" + string.Join(",\n  ", items) + "]}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(Error(request.Id, ex));
                }
            }
        }
        WriteResults(outDir, results);
        Console.WriteLine(requests.Count + " requests in " + watch.ElapsedMilliseconds + " ms");
        return 0;
    }
}
