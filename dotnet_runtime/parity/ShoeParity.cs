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
            foreach (var request in Each(requests))
            {
                var options = new ShoeOptions();
                if (request.Options != null)
                    foreach (var kv in request.Options)
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
                    var images = generator.GenerateBatch(request.Seeds, options);
                    WriteRgba(outDir, request.Id, images.ConvertAll(image => image.Rgba));
                    var types = new List<string>();
                    foreach (var image in images) types.Add(image.Type);
                    results.Add(Quote(request.Id) + ": {\"width\": " + images[0].Width + ", \"height\": " + images[0].Height + ", \"types\": " + QuoteAll(types) + "}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(Error(request.Id, ex));
                }
            }
        }
        WriteResults(outDir, results);
        return 0;
    }
}
