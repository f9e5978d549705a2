// What the three halves of the parity program (PortraitParity.cs, ShoeParity.cs,
// DialogueParity.cs) share: reading the request file, loading the generator with the exit
// codes the tests expect, and writing the answers: OUT_DIR/<id>.rgba, the JSON of an error and
// OUT_DIR/results.json.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using AssetGen.Runtime;

static class ParityIO
{
    /// <summary>A JSON string (null for null).</summary>
    public static string Quote(string s)
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

    /// <summary>A JSON array of strings (null for null).</summary>
    public static string QuoteAll(IEnumerable<string> items)
    {
        if (items == null) return "null";
        var quoted = new List<string>();
        foreach (string item in items) quoted.Add(Quote(item));
        return "[" + string.Join(", ", quoted) + "]";
    }

    public static List<object> Requests(string path)
    {
        return (List<object>)Json.Parse(File.ReadAllText(path));
    }

    /// <summary>One request of the file: all its fields, its "id", its "seeds" and its
    /// "options" (null when it has none).</summary>
    public sealed class Request
    {
        public Dictionary<string, object> Fields;
        public string Id;
        public List<long> Seeds;
        public Dictionary<string, object> Options;
    }

    /// <summary>The requests one by one, each read when its turn comes.</summary>
    public static IEnumerable<Request> Each(List<object> requests)
    {
        foreach (object r in requests)
        {
            var fields = (Dictionary<string, object>)r;
            var request = new Request { Fields = fields, Id = (string)fields["id"], Seeds = new List<long>() };
            foreach (object s in (List<object>)fields["seeds"]) request.Seeds.Add((long)s);
            object options;
            fields.TryGetValue("options", out options);
            request.Options = options as Dictionary<string, object>;
            yield return request;
        }
    }

    /// <summary>Makes the generator with <paramref name="load"/>: 0, or the program's exit
    /// code with the exception on stdout, 3 when the model folder is refused, 4 when ONNX
    /// Runtime cannot be loaded.</summary>
    public static int Load<T>(Func<T> load, out T generator) where T : class
    {
        generator = null;
        try
        {
            generator = load();
            return 0;
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
    }

    /// <summary>The answer to request <paramref name="id"/> when it was refused.</summary>
    public static string Error(string id, string type, string message, string parameter)
    {
        return Quote(id) + ": {\"error\": {\"type\": " + Quote(type) + ", \"message\": " + Quote(message) + ", \"parameter\": " + Quote(parameter) + "}}";
    }

    /// <summary>The Python API's InvalidOptionsError, as the tests compare it.</summary>
    public static string Error(string id, InvalidOptionsException ex)
    {
        return Error(id, "InvalidOptionsError", ex.Message, ex.Parameter);
    }

    /// <summary>OUT_DIR/<paramref name="id"/>.rgba: the images one after the other.</summary>
    public static void WriteRgba(string outDir, string id, IEnumerable<byte[]> images)
    {
        using (var file = File.Create(Path.Combine(outDir, id + ".rgba")))
            foreach (byte[] rgba in images) file.Write(rgba, 0, rgba.Length);
    }

    /// <summary>OUT_DIR/results.json: one JSON object of the answers.</summary>
    public static void WriteResults(string outDir, List<string> results)
    {
        File.WriteAllText(Path.Combine(outDir, "results.json"), "{" + string.Join(",\n", results) + "}\n");
    }
}
