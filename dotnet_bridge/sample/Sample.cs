using System;
using System.IO;
using System.Linq;
using System.Text;
using AssetGen.Bridge;

namespace AssetGen.Bridge.Sample
{
    /// <summary>
    /// What a game asks the bridge for, as a console program: an NPC's portrait, the 8 frames of
    /// that NPC talking, and 3 lines of dialogue, written to a folder.
    ///
    ///   mono AssetGen.Bridge.Sample.exe --python .venv/bin/python --out out/npc [--seed 7]
    ///        [--device auto] [--portrait-options JSON] [--talk-options JSON]
    ///        [--dialogue-options JSON]
    /// The talk frames use --talk-options, {"animation": "talk"} unless given.
    /// </summary>
    static class Sample
    {
        const int TalkFrames = 8;
        const int DialogueLines = 3;

        static int Main(string[] args)
        {
            string python = null, outDir = null, device = "auto";
            string portraitOptions = "{}", dialogueOptions = "{}";
            string talkOptions = "{\"animation\": \"talk\"}";
            long seed = 7;
            try
            {
                for (int i = 0; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--python": python = args[++i]; break;
                        case "--out": outDir = args[++i]; break;
                        case "--seed": seed = long.Parse(args[++i]); break;
                        case "--device": device = args[++i]; break;
                        case "--portrait-options": portraitOptions = args[++i]; break;
                        case "--talk-options": talkOptions = args[++i]; break;
                        case "--dialogue-options": dialogueOptions = args[++i]; break;
                        default: throw new ArgumentException("unknown argument " + args[i]);
                    }
                }
                if (python == null || outDir == null)
                    throw new ArgumentException("--python and --out are required");
            }
            catch (Exception ex) when (ex is ArgumentException || ex is FormatException ||
                                       ex is IndexOutOfRangeException || ex is OverflowException)
            {
                Console.Error.WriteLine("sample: " + ex.Message);
                Console.Error.WriteLine("usage: AssetGen.Bridge.Sample.exe --python PYTHON --out DIR " +
                                        "[--seed N] [--device auto|cpu|cuda] " +
                                        "[--portrait-options JSON] [--talk-options JSON] " +
                                        "[--dialogue-options JSON]");
                return 2;
            }

            try
            {
                var engine = AssetGenEngine.Start(new AssetGenConfig { PythonExecutable = python, Device = device });
                var available = engine.GeneratorIds();
                foreach (var needed in new[] { "portraits", "dialogue" })
                    if (!available.Contains(needed))
                        throw new AssetGenException("UnknownGeneratorError", string.Format(
                            "the '{0}' generator is not loaded (loaded: {1}); is its plugin installed, " +
                            "and not left out by ASSETGEN_LOAD_PLUGINS?",
                            needed, available.Length == 0 ? "none" : string.Join(", ", available)));
                Directory.CreateDirectory(outDir);

                var portrait = Path.Combine(outDir, string.Format("portrait_{0}.png", seed));
                File.WriteAllBytes(portrait, engine.GeneratePng("portraits", seed, portraitOptions));
                Console.WriteLine("wrote " + portrait);

                var talk = engine.AnimatePng("portraits", seed, TalkFrames, talkOptions);
                for (int k = 0; k < talk.Length; k++)
                {
                    var frame = Path.Combine(outDir, string.Format("portrait_{0}_talk_{1:D2}.png", seed, k));
                    File.WriteAllBytes(frame, talk[k]);
                    Console.WriteLine("wrote " + frame);
                }

                var lines = engine.GenerateText("dialogue", seed, DialogueLines, dialogueOptions);
                var dialogue = Path.Combine(outDir, string.Format("dialogue_{0}.txt", seed));
                File.WriteAllText(dialogue, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
                Console.WriteLine("wrote " + dialogue);
                foreach (var line in lines)
                    Console.WriteLine("  " + line);
                return 0;
            }
            catch (AssetGenException ex)
            {
                Console.Error.WriteLine("sample: " + ex.PythonType + ": " + ex.Message);
                if (ex.PythonType == "ModelError")
                    Console.Error.WriteLine("sample: a generator's trained model is missing or damaged; " +
                                            "the portraits and dialogue models ship in " +
                                            "plugins/assetgen_<name>/model/ (see docs/training.md)");
                return 1;
            }
        }
    }
}
