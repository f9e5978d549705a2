// The shoes half of the parity program (see PortraitParity.cs): used when the model folder's
// manifest says "generator": "shoes". Requests: {"id", "seeds", "options": {"type",
// "variety", "hue_shift", "saturation"}}; results: width, height and each icon's "types".
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using AssetGen.Runtime;

static class ShoeParity
{
    public static int Run(string model, string requestsPath, string outDir, SessionSettings settings)
    {
        var results = new List<string>();
        var requests = (List<object>)Json.Parse(File.ReadAllText(requestsPath));
        ShoesGenerator loaded;
        try
        {
            loaded = new ShoesGenerator(model, settings);
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
            foreach (object r in requests)
            {
                var request = (Dictionary<string, object>)r;
                string id = (string)request["id"];
                var seeds = new List<long>();
                foreach (object s in (List<object>)request["seeds"]) seeds.Add((long)s);
                var options = new ShoeOptions();
                object spec;
                if (request.TryGetValue("options", out spec))
                    foreach (var kv in (Dictionary<string, object>)spec)
                    {
                        switch (kv.Key)
                        {
                            case "type": options.Type = (string)kv.Value; break;
                            case "variety": options.Variety = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                            case "hue_shift": options.HueShift = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                            case "saturation": options.Saturation = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                            default: throw new ArgumentException("unknown shoes option " + kv.Key);
                        }
                    }
                try
                {
                    var images = generator.GenerateBatch(seeds, options);
                    using (var file = File.Create(Path.Combine(outDir, id + ".rgba")))
                        foreach (var image in images) file.Write(image.Rgba, 0, image.Rgba.Length);
                    var types = new List<string>();
                    foreach (var image in images) types.Add(PortraitParity.Quote(image.Type));
                    results.Add(PortraitParity.Quote(id) + ": {\"width\": " + images[0].Width + ", \"height\": " + images[0].Height + ", \"types\": [" + string.Join(", ", types) + "]}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(PortraitParity.Quote(id) + ": {\"error\": {\"type\": \"InvalidOptionsError\", \"message\": " + PortraitParity.Quote(ex.Message) + ", \"parameter\": " + PortraitParity.Quote(ex.Parameter) + "}}");
                }
            }
        }
        File.WriteAllText(Path.Combine(outDir, "results.json"), "{" + string.Join(",\n", results) + "}\n");
        return 0;
    }
}
