// The shoes generator in C# (Python: plugins/assetgen_shoes/plugin.py and colour.py): one
// SeedStream(seed, "shoes") a seed draws the type (always, so naming the type leaves the
// latent as it is) and then z_dim normals; z times variety in float32 -> shoes.onnx (z, type)
// one row at a time -> rint(rgba * 255) -> the optional luma-keeping hue rotation.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace AssetGen.Runtime
{
    public sealed class ShoeOptions
    {
        /// <summary>A footwear type of the model's type_names, or "random".</summary>
        public string Type { get; set; } = "random";
        /// <summary>Latent scale (truncation), 0 to 1.5.</summary>
        public double Variety { get; set; } = 0.8;
        /// <summary>Hue rotation in degrees, -180 to 180.</summary>
        public double HueShift { get; set; } = 0.0;
        /// <summary>Saturation multiplier, 0 to 2.</summary>
        public double Saturation { get; set; } = 1.0;
    }

    /// <summary>One icon: Height x Width x 4 bytes (straight alpha, top row first) and its type.</summary>
    public sealed class ShoeImage
    {
        public int Width { get; }
        public int Height { get; }
        public byte[] Rgba { get; }
        public long Seed { get; }
        public string Type { get; }

        public ShoeImage(int width, int height, byte[] rgba, long seed, string type)
        {
            Width = width;
            Height = height;
            Rgba = rgba;
            Seed = seed;
            Type = type;
        }
    }

    public sealed class ShoesGenerator : IDisposable
    {
        public const string Graph = "shoes.onnx";
        readonly ModelFolder folder;

        public ModelFolder Folder => folder;
        public IReadOnlyList<string> TypeNames { get; }
        public int ZDim { get; }

        /// <summary>Loads and checks a shoes model folder (sha256 of every file; type_names
        /// and z_dim against shoes.onnx).</summary>
        public ShoesGenerator(string modelDirectory, SessionSettings settings = null)
            : this(new ModelFolder(modelDirectory, settings))
        {
        }

        /// <summary>A generator on an already verified model (see <see cref="ModelFolder"/>);
        /// it disposes the folder.</summary>
        public ShoesGenerator(ModelFolder model)
        {
            folder = model ?? throw new ArgumentNullException(nameof(model));
            try
            {
                var m = folder.Manifest;
                var names = new List<string>();
                foreach (object n in ManifestFields.Array(ManifestFields.Get(m, "type_names", "type_names"), "type_names"))
                    names.Add(ManifestFields.String(n, "type_names"));
                if (names.Count == 0) throw ManifestFields.Bad("type_names", "is empty");
                TypeNames = names;
                ZDim = ManifestFields.NonNegativeInt(m, "z_dim");
                var session = folder.Session(Graph);
                long[] z;
                if (!session.InputShapes.TryGetValue("z", out z) || !session.InputShapes.ContainsKey("type"))
                    throw new ModelException(Graph + " has no inputs 'z' and 'type'; the manifest describes another model");
                if (z.Length != 2 || z[1] != ZDim)
                    throw ManifestFields.Bad("z_dim", "is " + ZDim + "; " + Graph + " takes z of size [" + (z.Length > 1 ? z[1].ToString(CultureInfo.InvariantCulture) : "") + "]");
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }

        static InvalidOptionsException Fail(string option, string allowed, string shown)
        {
            return new InvalidOptionsException("option '" + option + "' must be " + allowed + "; got " + shown, option, shown);
        }

        static void Range(string option, double value, double low, double high)
        {
            if (double.IsNaN(value) || double.IsInfinity(value) || value < low || value > high)
                throw Fail(option, "a number from " + PyText.G(low) + " to " + PyText.G(high), PyText.Repr(value));
        }

        /// <summary>Checks options as the Python API does, with the same messages.</summary>
        public void Validate(ShoeOptions options)
        {
            if (options.Type == null || (options.Type != "random" && !((List<string>)TypeNames).Contains(options.Type)))
            {
                var quoted = new List<string> { PyText.Repr("random") };
                foreach (string n in TypeNames) quoted.Add(PyText.Repr(n));
                throw Fail("type", "one of " + string.Join(", ", quoted), options.Type == null ? "None" : PyText.Show(PyText.Repr(options.Type)));
            }
            Range("variety", options.Variety, 0.0, 1.5);
            Range("hue_shift", options.HueShift, -180.0, 180.0);
            Range("saturation", options.Saturation, 0.0, 2.0);
        }

        public ShoeImage Generate(long seed, ShoeOptions options = null)
        {
            return GenerateBatch(new[] { seed }, options)[0];
        }

        /// <summary>Icons of several seeds (each run alone, as in Python, so a seed's icon does
        /// not depend on its batch).</summary>
        public List<ShoeImage> GenerateBatch(IList<long> seeds, ShoeOptions options = null)
        {
            options = options ?? new ShoeOptions();
            foreach (long seed in seeds) RequestChecks.Seed(seed);
            Validate(options);
            var session = folder.Session(Graph);
            float variety = (float)options.Variety;
            float[] matrix = options.HueShift == 0 && options.Saturation == 1 ? null : ColourMatrix(options.HueShift, options.Saturation);
            var result = new List<ShoeImage>();
            foreach (long seed in seeds)
            {
                var rng = new SeedStream(seed, "shoes");
                int drawn = rng.Below(TypeNames.Count);
                int type = options.Type == "random" ? drawn : ((List<string>)TypeNames).IndexOf(options.Type);
                double[] normals = rng.StandardNormal(ZDim);
                var z = new float[ZDim];
                for (int i = 0; i < ZDim; i++)
                {
                    float v = (float)normals[i];
                    z[i] = v * variety;
                }
                var outputs = session.Run(new Dictionary<string, Tensor>
                {
                    { "z", new Tensor(new long[] { 1, ZDim }, z) },
                    { "type", new Tensor(new long[] { 1 }, new long[] { type }) },
                });
                // the first output, as Python's session.run(None, ...) unpacks it
                Tensor rgba = outputs[session.OutputNames[0]];
                if (rgba.Shape.Length != 4 || rgba.Shape[1] != 4)
                    throw new ModelException(Graph + ": output '" + session.OutputNames[0] + "' has shape [" + string.Join(", ", rgba.Shape) + "], not [batch, 4, height, width]");
                int h = (int)rgba.Shape[2], w = (int)rgba.Shape[3];
                byte[] image = ToBytes(rgba.Data, h, w);
                if (matrix != null) Recolour(image, matrix);
                result.Add(new ShoeImage(w, h, image, seed, TypeNames[type]));
            }
            return result;
        }

        // np.rint(rgba[0].transpose(1, 2, 0) * 255).astype(np.uint8): the graph ends in a Clip
        static byte[] ToBytes(float[] chw, int height, int width)
        {
            int plane = height * width;
            var output = new byte[plane * 4];
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < plane; p++)
                {
                    float scaled = chw[c * plane + p] * 255f;
                    double r = Math.Round((double)scaled, MidpointRounding.ToEven);
                    output[p * 4 + c] = (byte)Math.Max(0.0, Math.Min(255.0, r));
                }
            return output;
        }

        static readonly double[] RgbToYiq = { 0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312 };

        static double[] Multiply(double[] a, double[] b)
        {
            var c = new double[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    double s = a[i * 3] * b[j];
                    s = s + a[i * 3 + 1] * b[3 + j];
                    s = s + a[i * 3 + 2] * b[6 + j];
                    c[i * 3 + j] = s;
                }
            return c;
        }

        // the inverse by Gauss-Jordan elimination with partial pivoting (numpy: LAPACK gesv)
        static double[] Inverse(double[] m)
        {
            var a = (double[])m.Clone();
            var inv = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
            for (int col = 0; col < 3; col++)
            {
                int pivot = col;
                for (int r = col + 1; r < 3; r++) if (Math.Abs(a[r * 3 + col]) > Math.Abs(a[pivot * 3 + col])) pivot = r;
                if (pivot != col)
                    for (int k = 0; k < 3; k++)
                    {
                        double t = a[col * 3 + k]; a[col * 3 + k] = a[pivot * 3 + k]; a[pivot * 3 + k] = t;
                        t = inv[col * 3 + k]; inv[col * 3 + k] = inv[pivot * 3 + k]; inv[pivot * 3 + k] = t;
                    }
                double d = a[col * 3 + col];
                for (int k = 0; k < 3; k++) { a[col * 3 + k] /= d; inv[col * 3 + k] /= d; }
                for (int r = 0; r < 3; r++)
                {
                    if (r == col) continue;
                    double f = a[r * 3 + col];
                    for (int k = 0; k < 3; k++) { a[r * 3 + k] -= f * a[col * 3 + k]; inv[r * 3 + k] -= f * inv[col * 3 + k]; }
                }
            }
            return inv;
        }

        /// <summary>colour.py colour_matrix: rgb' = M rgb rotates the hue in YIQ space and
        /// scales saturation, luma fixed (float32, row-major).</summary>
        public static float[] ColourMatrix(double hueDegrees, double saturation)
        {
            double theta = hueDegrees * (Math.PI / 180.0);
            double c = Math.Cos(theta) * saturation, s = Math.Sin(theta) * saturation;
            var rotate = new double[] { 1, 0, 0, 0, c, -s, 0, s, c };
            double[] m = Multiply(Multiply(Inverse(RgbToYiq), rotate), RgbToYiq);
            var result = new float[9];
            for (int i = 0; i < 9; i++) result[i] = (float)m[i];
            return result;
        }

        // colour.py recolour: rgb (float32) @ M.T, rint, clip to 0..255; alpha untouched
        static void Recolour(byte[] rgba, float[] m)
        {
            for (int p = 0; p < rgba.Length; p += 4)
            {
                float r = rgba[p], g = rgba[p + 1], b = rgba[p + 2];
                for (int j = 0; j < 3; j++)
                {
                    float acc = r * m[j * 3];
                    acc = acc + g * m[j * 3 + 1];
                    acc = acc + b * m[j * 3 + 2];
                    double v = Math.Round((double)acc, MidpointRounding.ToEven);
                    rgba[p + j] = (byte)Math.Max(0.0, Math.Min(255.0, v));
                }
            }
        }

        public void Dispose()
        {
            folder.Dispose();
        }
    }
}
