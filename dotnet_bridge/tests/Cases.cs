using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace AssetGen.Bridge.Tests
{
    /// <summary>One request and what the Python API returned for it, written by the Python
    /// test suite (tests/bridge/expected.py) into the expected-results folder.</summary>
    [Serializable]
    sealed class Case
    {
        public string Id, Call, Generator, OptionsJson;
        public long Seed;
        public int N, Width, Height;
        public byte[][] Items;  // PNG files, RGBA8 frames, or UTF-8 text lines

        public static List<Case> Load(string folder)
        {
            var cases = new List<Case>();
            foreach (var line in File.ReadAllLines(Path.Combine(folder, "cases.tsv")))
            {
                if (line.Length == 0)
                    continue;
                var f = line.Split('\t');
                var c = new Case
                {
                    Id = f[0], Call = f[1], Generator = f[2],
                    Seed = long.Parse(f[3], CultureInfo.InvariantCulture),
                    N = int.Parse(f[4], CultureInfo.InvariantCulture),
                    Width = int.Parse(f[5], CultureInfo.InvariantCulture),
                    Height = int.Parse(f[6], CultureInfo.InvariantCulture),
                    OptionsJson = f[7],
                };
                int items = int.Parse(f[8], CultureInfo.InvariantCulture);
                c.Items = Enumerable.Range(0, items)
                    .Select(k => File.ReadAllBytes(Path.Combine(folder, c.Id + "." + k)))
                    .ToArray();
                cases.Add(c);
            }
            if (cases.Count == 0)
                throw new InvalidDataException("no cases in " + folder);
            return cases;
        }

        /// <summary>Runs the request through the bridge and checks every item and size.</summary>
        public void Verify(AssetGenEngine engine)
        {
            int width, height;
            var actual = Run(engine, out width, out height);
            Assert.Equal(Items.Length, actual.Length, Id + " item count");
            for (int k = 0; k < Items.Length; k++)
                Assert.Bytes(Items[k], actual[k], Id + " item " + k);
            if (Width > 0)
            {
                Assert.Equal(Width, width, Id + " width");
                Assert.Equal(Height, height, Id + " height");
            }
        }

        byte[][] Run(AssetGenEngine engine, out int width, out int height)
        {
            width = height = 0;
            switch (Call)
            {
                case "png":
                    return new[] { engine.GeneratePng(Generator, Seed, OptionsJson) };
                case "rgba":
                    var image = engine.GenerateRgba(Generator, Seed, OptionsJson);
                    width = image.Width;
                    height = image.Height;
                    return new[] { image.Pixels };
                // N = 0: no frame count given, the generator decides
                case "animate_png":
                    return N == 0 ? engine.AnimatePng(Generator, Seed, OptionsJson)
                                  : engine.AnimatePng(Generator, Seed, N, OptionsJson);
                case "animate_rgba":
                    var frames = N == 0 ? engine.AnimateRgba(Generator, Seed, OptionsJson)
                                        : engine.AnimateRgba(Generator, Seed, N, OptionsJson);
                    width = frames[0].Width;
                    height = frames[0].Height;
                    return frames.Select(f => f.Pixels).ToArray();
                case "text":
                    return engine.GenerateText(Generator, Seed, N, OptionsJson)
                        .Select(s => Encoding.UTF8.GetBytes(s)).ToArray();
                default:
                    throw new InvalidDataException("unknown call " + Call);
            }
        }
    }

    /// <summary>A request the engine refuses, with the type and message Python raised.</summary>
    [Serializable]
    sealed class ErrorCase
    {
        public string Id, Call, Generator, OptionsJson, PythonType, Message;
        public long Seed;
        public int N;

        public static List<ErrorCase> Load(string folder)
        {
            var cases = new List<ErrorCase>();
            foreach (var line in File.ReadAllLines(Path.Combine(folder, "errors.tsv")))
            {
                if (line.Length == 0)
                    continue;
                var f = line.Split('\t');
                cases.Add(new ErrorCase
                {
                    Id = f[0], Call = f[1], Generator = f[2],
                    Seed = long.Parse(f[3], CultureInfo.InvariantCulture),
                    N = int.Parse(f[4], CultureInfo.InvariantCulture),
                    PythonType = f[5], OptionsJson = f[6],
                    Message = File.ReadAllText(Path.Combine(folder, f[0] + ".message"), Encoding.UTF8),
                });
            }
            return cases;
        }

        public void Verify(AssetGenEngine engine)
        {
            var error = Assert.Throws<AssetGenException>(Run(engine), Id);
            Assert.Equal(PythonType, error.PythonType, Id + " PythonType");
            Assert.Equal(Message, error.Message, Id + " message");
            Assert.Contains(PythonType, error.PythonTraceback, Id + " traceback");
        }

        Action Run(AssetGenEngine engine)
        {
            switch (Call)
            {
                case "png": return () => engine.GeneratePng(Generator, Seed, OptionsJson);
                case "rgba": return () => engine.GenerateRgba(Generator, Seed, OptionsJson);
                case "animate_png": return () => engine.AnimatePng(Generator, Seed, N, OptionsJson);
                case "animate_rgba": return () => engine.AnimateRgba(Generator, Seed, N, OptionsJson);
                case "text": return () => engine.GenerateText(Generator, Seed, N, OptionsJson);
                case "info": return () => engine.InfoJson(Generator);
                default: throw new InvalidDataException("unknown call " + Call);
            }
        }
    }
}
