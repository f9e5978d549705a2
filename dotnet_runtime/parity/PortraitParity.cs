// The C# side of tests/runtime/test_portraits_parity.py (and, for a shoes model folder,
// test_shoes_parity.py through ShoeParity.cs): makes the sprites a request file
// asks for with AssetGen.Runtime (no Python), and writes them for the test to compare with
// the Python API's.
//
//   mono AssetGen.Runtime.Parity.exe MODEL_DIR REQUESTS.json OUT_DIR [THREADS [reader]]
//
// REQUESTS.json: [{"id": "a", "seeds": [1, 2], "options": {"hair": "long03", "truncation":
// 0.7, "mix_seed": 5, "mix_layer": 3, "attributes": {"skin_dark": 1.0}}}, ...]; a request
// with "frames" (a count, or null for the generator's own) is an animation of its first seed
// (options "animation", "fps", "strength", "to_seed", "cues", "text", "hold", "tween",
// "extended_shapes"; the request's "dictionary": a CMU dictionary file for the text driver), its frames written like sprites, with its "states", "frame_states",
// "frame_shapes" and (interpolate) "to_seed" and "to_labels"; a request with
// "curve" ("talk" or "blink"), "frames" and "fps" writes OUT_DIR/<id>.f32, each seed's
// driver curve as float32; a request with "lipsync" ({"text", "fps", "hold", optional
// "extended" and "rate"}) answers the text driver's track, smoothed and tweened, in ticks. For each
// request OUT_DIR/<id>.rgba holds the sprites one after the other (H x W x 4 bytes each);
// OUT_DIR/results.json maps each id to its width, height and label sets, or to the error
// (type, message, parameter). Exit code 0 when every request was answered, 3 when the model
// folder is refused (the ModelException's message on stdout), 4 when ONNX Runtime cannot be
// loaded.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using AssetGen.Runtime;
using static ParityIO;

static class PortraitParity
{
    static string Map(Dictionary<string, string> map)
    {
        if (map == null) return "null";
        var pairs = new List<string>();
        foreach (var kv in map) pairs.Add(Quote(kv.Key) + ": " + Quote(kv.Value));
        return "{" + string.Join(", ", pairs) + "}";
    }

    static T Options<T>(Dictionary<string, object> spec) where T : PortraitOptions, new()
    {
        var options = new T();
        if (spec == null) return options;
        var animation = options as PortraitAnimationOptions;
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
                case "animation": animation.Animation = (string)kv.Value; break;
                case "fps": animation.Fps = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                case "strength": animation.Strength = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                case "to_seed": animation.ToSeed = (long)kv.Value; break;
                case "cues": animation.Cues = (string)kv.Value; break;
                case "text": animation.Text = (string)kv.Value; break;
                case "hold": animation.Hold = Convert.ToDouble(kv.Value, CultureInfo.InvariantCulture); break;
                case "tween": animation.Tween = (bool)kv.Value; break;
                case "extended_shapes": animation.ExtendedShapes = (bool)kv.Value; break;
                default: options.Labels[kv.Key] = (string)kv.Value; break;
            }
        }
        return options;
    }

    static string Timed(List<TimedName> items)
    {
        var parts = new List<string>();
        foreach (var t in items) parts.Add("[" + Quote(t.Name) + ", " + t.Start + ", " + t.End + "]");
        return "[" + string.Join(", ", parts) + "]";
    }

    // a cue track as JSON: cues, phones and words in ticks, duration in ticks
    static string Track(CueTrack track)
    {
        if (track == null) return "null";
        var cues = new List<string>();
        foreach (var c in track.Cues) cues.Add("[" + Quote(c.Shape) + ", " + c.Start + ", " + c.End + "]");
        return "{\"cues\": [" + string.Join(", ", cues) + "], \"duration\": " + CueFiles.Ticks(track.Duration) + ", \"method\": " + Quote(track.Method)
            + ", \"source\": " + Quote(track.Source) + ", \"phones\": " + Timed(track.Phones) + ", \"words\": " + Timed(track.Words) + "}";
    }

    static readonly Dictionary<string, PronouncingDictionary> dictionaries = new Dictionary<string, PronouncingDictionary>();

    static PronouncingDictionary DictionaryOf(Dictionary<string, object> request)
    {
        object path;
        if (!request.TryGetValue("dictionary", out path) || path == null) return null;
        PronouncingDictionary d;
        if (!dictionaries.TryGetValue((string)path, out d)) dictionaries[(string)path] = d = PronouncingDictionary.Load((string)path);
        return d;
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
        object generatorId = null;
        try
        {
            var manifest = Json.Parse(File.ReadAllText(Path.Combine(args[0], "manifest.json"))) as Dictionary<string, object>;
            if (manifest != null) manifest.TryGetValue("generator", out generatorId);
        }
        catch (Exception ex) when (ex is IOException || ex is FormatException)
        {
            // the generator's own load reports the problem
        }
        if ("shoes".Equals(generatorId)) return ShoeParity.Run(args[0], args[1], args[2], settings);
        if ("dialogue".Equals(generatorId)) return DialogueParity.Run(args[0], args[1], args[2], settings);
        var results = new List<string>();
        var requests = Requests(args[1]);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // "reader" as the fifth argument: the files come through a reader callback (as from
        // Unity TextAssets), not from the folder path
        string root = args[0];
        bool reader = args.Length > 4 && args[4] == "reader";
        PortraitsGenerator loaded;
        int refused = Load(() => reader
            ? new PortraitsGenerator(new ModelFolder("reader:" + root, name => File.ReadAllBytes(Path.Combine(root, name)), settings))
            : new PortraitsGenerator(root, settings), out loaded);
        if (refused != 0) return refused;
        using (var generator = loaded)
        {
            Console.WriteLine("ONNX Runtime " + OnnxSession.RuntimeVersion + "; model loaded in " + watch.ElapsedMilliseconds + " ms");
            foreach (var request in Each(requests))
            {
                object frames, curve, lipsync;
                generator.Pronunciations = DictionaryOf(request.Fields);
                if (request.Fields.TryGetValue("lipsync", out lipsync))
                {
                    // the text driver alone: {"text", "extended", "hold", "fps", "tween"}:
                    // the raw track, then smoothed, then with the in-between frames
                    var o = (Dictionary<string, object>)lipsync;
                    try
                    {
                        bool extended = !o.ContainsKey("extended") || (bool)o["extended"];
                        double rate = o.ContainsKey("rate") ? Convert.ToDouble(o["rate"], CultureInfo.InvariantCulture) : LipSyncText.DefaultRate;
                        CueTrack raw = LipSyncText.TextTrack((string)o["text"], generator.Pronunciations, rate, extended);
                        double fps = Convert.ToDouble(o["fps"], CultureInfo.InvariantCulture);
                        CueTrack smooth = LipSyncSmoothing.Smooth(raw, Convert.ToDouble(o["hold"], CultureInfo.InvariantCulture), fps);
                        CueTrack tweened = LipSyncSmoothing.Tween(smooth, fps);
                        results.Add(Quote(request.Id) + ": {\"raw\": " + Track(raw) + ", \"smooth\": " + Track(smooth) + ", \"tween\": " + Track(tweened)
                            + ", \"frames\": " + CueFiles.TrackFrames(tweened, fps) + ", \"frame_shapes\": " + QuoteAll(CueFiles.FrameShapes(tweened, fps, CueFiles.TrackFrames(tweened, fps))) + "}");
                    }
                    catch (InvalidOptionsException ex)
                    {
                        results.Add(Error(request.Id, ex));
                    }
                    continue;
                }
                if (request.Fields.TryGetValue("curve", out curve))
                {
                    // a driver curve alone: float32 values, little-endian
                    double fps = Convert.ToDouble(request.Fields["fps"], CultureInfo.InvariantCulture);
                    int count = (int)(long)request.Fields["frames"];
                    using (var file = File.Create(Path.Combine(args[2], request.Id + ".f32")))
                        foreach (long seed in request.Seeds)
                        {
                            float[] values = (string)curve == "blink" ? Drivers.BlinkCurve(count, fps, seed) : Drivers.TalkCycle(count, fps, seed);
                            foreach (float v in values) file.Write(BitConverter.GetBytes(v), 0, 4);
                        }
                    results.Add(Quote(request.Id) + ": {}");
                    continue;
                }
                try
                {
                    if (request.Fields.TryGetValue("frames", out frames))
                    {
                        var animationOptions = Options<PortraitAnimationOptions>(request.Options);
                        var animation = frames == null ? generator.Animate(request.Seeds[0], animationOptions)
                            : generator.Animate(request.Seeds[0], (int)(long)frames, animationOptions);
                        WriteRgba(args[2], request.Id, animation.Frames);
                        var extra = new List<string>();
                        if (animation.EditShift != null)
                            extra.Add("\"edit_shift\": [" + animation.EditShift[0] + ", " + animation.EditShift[1] + "], \"start_state\": "
                                + animation.StartState.ToString("R", CultureInfo.InvariantCulture) + ", \"rest_state\": " + animation.RestState.ToString("R", CultureInfo.InvariantCulture));
                        if (animation.LipSync != null)
                            extra.Add("\"lipsync\": " + Track(animation.LipSync));
                        if (animation.ToSeed >= 0)
                            extra.Add("\"to_seed\": " + animation.ToSeed + ", \"to_labels\": " + Map(animation.ToLabels));
                        results.Add(Quote(request.Id) + ": {\"width\": " + animation.Width + ", \"height\": " + animation.Height + ", \"labels\": [" + Map(animation.Labels) + "], \"states\": " + QuoteAll(animation.States) + ", \"frame_states\": " + QuoteAll(animation.FrameStates) + ", \"frame_shapes\": " + QuoteAll(animation.FrameShapes) + (extra.Count > 0 ? ", " + string.Join(", ", extra) : "") + "}");
                        continue;
                    }
                    var images = generator.GenerateBatch(request.Seeds, Options<PortraitOptions>(request.Options));
                    WriteRgba(args[2], request.Id, images.ConvertAll(image => image.Rgba));
                    var labels = new List<string>();
                    foreach (var image in images) labels.Add(Map(image.Labels));
                    results.Add(Quote(request.Id) + ": {\"width\": " + images[0].Width + ", \"height\": " + images[0].Height + ", \"labels\": [" + string.Join(", ", labels) + "]}");
                }
                catch (InvalidOptionsException ex)
                {
                    results.Add(Error(request.Id, ex));
                }
                catch (NotSupportedException ex)
                {
                    results.Add(Error(request.Id, "NotSupportedException", ex.Message, null));
                }
            }
        }
        WriteResults(args[2], results);
        Console.WriteLine(requests.Count + " requests in " + watch.ElapsedMilliseconds + " ms");
        return 0;
    }
}
