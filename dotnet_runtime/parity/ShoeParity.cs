// The shoes half of the parity program (see PortraitParity.cs): used when the model folder's
// manifest says "generator": "shoes". Requests: {"id", "seeds", "options": {"type",
// "variety", "hue_shift", "saturation"}}; results: width, height and each icon's "types".
using System;
using System.Collections.Generic;
using System.Globalization;
using AssetGen.Runtime;
using static ParityIO;

static class ShoeParity
{
    public static int Run(string model, string requestsPath, string outDir, SessionSettings settings)
    {
        var results = new List<string>();
        var requests = Requests(requestsPath);
        ShoesGenerator loaded;
        int refused = Load(() => new ShoesGenerator(model, settings), out loaded);
        if (refused != 0) return refused;
        using (var generator = loaded)
        {
            foreach (object r in requests)
            {
                var request = (Dictionary<string, object>)r;
                string id = (string)request["id"];
                var seeds = Seeds(request);
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
                    WriteRgba(outDir, id, images.ConvertAll(image => image.Rgba));
                    var types = new List<string>();
                    foreach (var image in images) types.Add(image.Type);
                    results.Add(Quote(id) + ": {\"width\": " + images[0].Width + ", \"height\": " + images[0].Height + ", \"types\": " + QuoteAll(types) + "}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(Error(id, ex));
                }
            }
        }
        WriteResults(outDir, results);
        return 0;
    }
}
