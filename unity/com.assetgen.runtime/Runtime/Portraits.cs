// The portraits generator for label-conditioned models, in C# (Python:
// plugins/assetgen_portraits/plugin.py, generate_batch -> label_batch -> synthesise):
// seed -> label set (LabelModel) -> mapping.onnx (label_weights -> w, maps16, maps32) ->
// truncation, style mixing and attribute arithmetic on w, in float32 in the Python order ->
// synthesis.onnx (ws, maps16, maps32 -> rgba) -> 8-bit straight-alpha RGBA.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>Options of a portrait (Python: PortraitOptions). Label options are set by
    /// name (hair, hair_color, skin, eyes, eyebrows, mouth, glasses, earrings, details); a
    /// label not set is "random" (drawn from the seed).</summary>
    public class PortraitOptions
    {
        /// <summary>The label options the Python API has, in its order.</summary>
        public static readonly string[] LabelOptionNames =
        {
            "hair", "hair_color", "skin", "eyes", "eyebrows", "mouth", "glasses", "earrings", "details",
        };

        public Dictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>Truncation psi, 0 to 1.5.</summary>
        public double Truncation { get; set; } = 1.0;
        /// <summary>Style mixing: take this seed's styles from <see cref="MixLayer"/> on; -1: none.</summary>
        public long MixSeed { get; set; } = -1;
        public int MixLayer { get; set; } = 5;
        /// <summary>Attribute name -> strength (-5 to 5).</summary>
        public Dictionary<string, double> Attributes { get; } = new Dictionary<string, double>(StringComparer.Ordinal);

        public PortraitOptions Label(string option, string value)
        {
            Labels[option] = value;
            return this;
        }

        public string LabelOf(string option)
        {
            string value;
            return Labels.TryGetValue(option, out value) ? value : LabelModel.Random;
        }
    }

    /// <summary>One generated sprite: Height x Width x 4 bytes, straight alpha, rows top down,
    /// fully transparent pixels all zero; <see cref="Labels"/> the face's label set.</summary>
    public sealed class PortraitImage
    {
        public int Width { get; }
        public int Height { get; }
        public byte[] Rgba { get; }
        public long Seed { get; }
        public Dictionary<string, string> Labels { get; }

        public PortraitImage(int width, int height, byte[] rgba, long seed, Dictionary<string, string> labels)
        {
            Width = width;
            Height = height;
            Rgba = rgba;
            Seed = seed;
            Labels = labels;
        }
    }

    /// <summary>An attribute vector of attributes.csv.</summary>
    public sealed class AttributeVector
    {
        public string Name { get; }
        public string Group { get; }
        public double StrengthMin { get; }
        public double StrengthMax { get; }
        public double Strength { get; }
        public float[] Vector { get; }

        public AttributeVector(string name, string group, double min, double max, double strength, float[] vector)
        {
            Name = name;
            Group = group;
            StrengthMin = min;
            StrengthMax = max;
            Strength = strength;
            Vector = vector;
        }
    }

    /// <summary>Portrait sprites from a label-conditioned portraits model folder, the same
    /// pixels and labels as the Python API for the same seed and options (see
    /// docs/runtime.md for how closely that is tested).</summary>
    public sealed partial class PortraitsGenerator : IDisposable
    {
        /// <summary>Faces per ONNX call, as in Python (CALL_BATCH).</summary>
        public const int CallBatch = 32;
        public const double MaxAttributeStrength = 5.0;
        const int MaxAttributes = 64;

        readonly ModelFolder folder;
        readonly Dictionary<string, AttributeVector> attributes = new Dictionary<string, AttributeVector>(StringComparer.Ordinal);
        readonly Dictionary<string, KeyValuePair<string, int>> labelAttributes = new Dictionary<string, KeyValuePair<string, int>>(StringComparer.Ordinal);

        readonly Dictionary<string, LocalEdit> edits = new Dictionary<string, LocalEdit>(StringComparer.Ordinal);

        /// <summary>An unconditional model's local edits by name ("mouth", "blink").</summary>
        public IReadOnlyDictionary<string, LocalEdit> Edits => edits;
        public ModelFolder Folder => folder;
        /// <summary>The label side of a label-conditioned model; null for an unconditional
        /// one (a model trained on unlabelled art: seed -> z -> w).</summary>
        public LabelModel Labels { get; }
        /// <summary>True for an unconditional model: stills and interpolate only so far.</summary>
        public bool Unconditional => Labels == null;
        /// <summary>Latent size of an unconditional model (0 for a label model).</summary>
        public int ZDim { get; }
        public int WDim { get; }
        public int NumWs { get; }
        public float[] WAvg { get; }
        public IReadOnlyDictionary<string, AttributeVector> Attributes => attributes;

        /// <summary>Loads and checks a model folder (sha256 of every file, then the manifest
        /// fields against the graphs); a <see cref="ModelException"/> names the file and
        /// field.</summary>
        public PortraitsGenerator(string modelDirectory, SessionSettings settings = null)
            : this(new ModelFolder(modelDirectory, settings))
        {
        }

        /// <summary>A generator on an already verified model (for instance one read from
        /// Unity TextAssets, see <see cref="ModelFolder"/>); it disposes the folder.</summary>
        public PortraitsGenerator(ModelFolder model)
        {
            folder = model ?? throw new ArgumentNullException(nameof(model));
            try
            {
                var m = folder.Manifest;
                object conditioning;
                m.TryGetValue("conditioning", out conditioning);
                bool labels = "labels".Equals(conditioning);
                if (labels) Labels = new LabelModel(m);
                ZDim = ManifestFields.NonNegativeInt(m, "z_dim", labels ? 0 : (int?)null);
                WDim = ManifestFields.NonNegativeInt(m, "w_dim");
                NumWs = ManifestFields.NonNegativeInt(m, "num_ws");
                var avg = ManifestFields.Array(ManifestFields.Get(m, "w_avg", "w_avg"), "w_avg");
                WAvg = new float[avg.Count];
                for (int i = 0; i < avg.Count; i++) WAvg[i] = (float)ManifestFields.Number(avg[i], "w_avg");
                ReadAttributes(new UTF8Encoding(false, true).GetString(folder.ReadFile("attributes.csv")));
                if (labels) ReadLabelAttributes(m);
                else
                {
                    object editsValue;
                    if (m.TryGetValue("edits", out editsValue))
                        foreach (var kv in ManifestFields.Object(editsValue, "edits"))
                            edits[kv.Key] = new LocalEdit(kv.Key, ManifestFields.Object(kv.Value, "edits." + kv.Key));
                }
                Check();
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }

        void ReadAttributes(string text)
        {
            if (text.Length > 0 && text[0] == '\uFEFF') text = text.Substring(1);
            string[] lines = text.Replace("\r\n", "\n").Split('\n');
            if (lines.Length == 0) return;
            List<string> header = SplitCsv(lines[0]);
            Func<string, int> Col = name =>
            {
                int i = header.IndexOf(name);
                if (i < 0) throw new ModelException("attributes.csv: unreadable row (KeyError('" + name + "'))");
                return i;
            };
            int nameCol = Col("name"), groupCol = Col("group"), minCol = Col("strength_min"), maxCol = Col("strength_max"), strengthCol = Col("strength");
            var wCols = new List<int>();
            for (int k = 0; ; k++)
            {
                int i = header.IndexOf("w" + k.ToString(CultureInfo.InvariantCulture));
                if (i < 0) break;
                wCols.Add(i);
            }
            for (int r = 1; r < lines.Length; r++)
            {
                if (lines[r].Length == 0) continue;
                List<string> row = SplitCsv(lines[r]);
                try
                {
                    var vector = new float[wCols.Count];
                    for (int k = 0; k < vector.Length; k++) vector[k] = (float)double.Parse(row[wCols[k]], NumberStyles.Float, CultureInfo.InvariantCulture);
                    var a = new AttributeVector(row[nameCol], row[groupCol],
                        double.Parse(row[minCol], NumberStyles.Float, CultureInfo.InvariantCulture),
                        double.Parse(row[maxCol], NumberStyles.Float, CultureInfo.InvariantCulture),
                        double.Parse(row[strengthCol], NumberStyles.Float, CultureInfo.InvariantCulture), vector);
                    attributes[a.Name] = a;
                }
                catch (Exception ex) when (ex is FormatException || ex is ArgumentOutOfRangeException || ex is OverflowException)
                {
                    throw new ModelException("attributes.csv: unreadable row " + r + " (" + ex.Message + ")");
                }
            }
        }

        static List<string> SplitCsv(string line)
        {
            var cells = new List<string>();
            var sb = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else sb.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == ',') { cells.Add(sb.ToString()); sb.Clear(); }
                else sb.Append(c);
            }
            cells.Add(sb.ToString().TrimEnd('\r'));
            return cells;
        }

        // attributes that swap a value of a column the model reads only through w
        void ReadLabelAttributes(Dictionary<string, object> m)
        {
            var drawn = new HashSet<string>(StringComparer.Ordinal);
            object mapsValue;
            if (m.TryGetValue("maps", out mapsValue))
            {
                var maps = ManifestFields.Object(mapsValue, "maps");
                foreach (string key in new[] { "map16_columns", "map32_columns" })
                {
                    object cols;
                    if (maps.TryGetValue(key, out cols))
                        foreach (object c in ManifestFields.Array(cols, "maps." + key)) drawn.Add(ManifestFields.String(c, "maps." + key));
                }
            }
            object entries;
            if (!m.TryGetValue("attributes", out entries)) return;
            foreach (object e in ManifestFields.Array(entries, "attributes"))
            {
                var entry = ManifestFields.Object(e, "attributes");
                object column, value, name;
                entry.TryGetValue("column", out column);
                entry.TryGetValue("value", out value);
                if (column == null || !(value is string)) continue;
                LabelColumn col = Labels.Column(ManifestFields.String(column, "attributes.column"));
                if (col == null || drawn.Contains(col.Name) || col.IndexOf((string)value) < 0) continue;
                name = ManifestFields.Get(entry, "name", "attributes.name");
                labelAttributes[ManifestFields.String(name, "attributes.name")] = new KeyValuePair<string, int>(col.Name, col.IndexOf((string)value));
            }
        }

        static string Dims(long[] dims, int from)
        {
            var parts = new List<string>();
            for (int i = from; i < dims.Length; i++) parts.Add(dims[i] < 0 ? "None" : dims[i].ToString(CultureInfo.InvariantCulture));
            return "[" + string.Join(", ", parts) + "]";
        }

        static long[] InputDims(OnnxSession session, string graph, string input)
        {
            long[] dims;
            if (!session.InputShapes.TryGetValue(input, out dims))
                throw new ModelException(graph + " has no input '" + input + "'; the manifest describes another model");
            return dims;
        }

        // plugins/assetgen_portraits/checks.py: check_common and check_labels
        void Check()
        {
            if (WAvg.Length != WDim) throw ManifestFields.Bad("w_avg", "has " + WAvg.Length + " values; w_dim is " + WDim);
            foreach (float v in WAvg)
                if (float.IsNaN(v) || float.IsInfinity(v)) throw ManifestFields.Bad("w_avg", "holds NaN or infinite values");
            string synthesis = Unconditional ? Prefix : "synthesis.onnx";
            long[] ws = InputDims(folder.Session(synthesis), synthesis, "ws");
            if (ws.Length != 3 || ws[1] != NumWs || ws[2] != WDim)
                throw ManifestFields.Bad("num_ws", "/ w_dim (" + NumWs + ", " + WDim + ") do not match " + synthesis + "'s input ws " + Dims(ws, 1));
            foreach (var a in attributes.Values)
            {
                if (a.Vector.Length != WDim) throw ManifestFields.Bad(a.Name, "has " + a.Vector.Length + " values; w_dim is " + WDim, "attributes.csv");
                float max = 0f;
                foreach (float v in a.Vector)
                {
                    if (float.IsNaN(v) || float.IsInfinity(v)) throw ManifestFields.Bad(a.Name, "holds NaN or infinite values", "attributes.csv");
                    max = Math.Max(max, Math.Abs(v));
                }
                if (!(max > 0)) throw ManifestFields.Bad(a.Name, "is a zero vector (it would change nothing)", "attributes.csv");
            }
            if (Unconditional)
            {
                // checks.py check_unconditional (the edits are not read: no talk or blink yet)
                long[] z = InputDims(folder.Session("mapping.onnx"), "mapping.onnx", "z");
                if (z.Length != 2 || z[1] != ZDim)
                    throw ManifestFields.Bad("z_dim", "is " + ZDim + "; mapping.onnx takes z of size " + Dims(z, 1));
                folder.Session(Suffix);
                return;
            }
            long[] lw = InputDims(folder.Session("mapping.onnx"), "mapping.onnx", "label_weights");
            if (lw.Length != 2 || lw[1] != Labels.Size)
                throw ManifestFields.Bad("label_space", "has " + Labels.Size + " values in all; mapping.onnx takes " + Dims(lw, 1));
        }

        // -- options ------------------------------------------------------------------------

        static InvalidOptionsException Fail(string option, string allowed, string shown, string why = null)
        {
            return new InvalidOptionsException("option '" + option + "' must be " + allowed + "; got " + shown + (why == null ? "" : " (" + why + ")"), option, shown);
        }

        /// <summary>Checks options as the Python API does, in the same order, with the same
        /// messages (InvalidOptionsError).</summary>
        public void Validate(PortraitOptions options)
        {
            ValidateValues(options);
            ValidateForModel(options);
        }

        // the options layer (assetgen.options): each option's type and range, field by field
        void ValidateValues(PortraitOptions options)
        {
            foreach (string name in options.Labels.Keys)
                if (Array.IndexOf(PortraitOptions.LabelOptionNames, name) < 0 && (Unconditional || !Labels.HasOption(name)))
                    throw new InvalidOptionsException("unknown option " + PyText.Repr(name) + " for generator 'portraits'", name, null);
            foreach (string name in PortraitOptions.LabelOptionNames)
            {
                string value = options.LabelOf(name);
                if (Unconditional) continue; // checked against the model in ValidateForModel
                if (!Labels.HasOption(name))
                {
                    if (value != LabelModel.Random)
                        throw new InvalidOptionsException("option '" + name + "': this model has no '" + name + "' label; leave it at 'random'", name, value);
                    continue;
                }
                List<string> choices = Labels.Choices(name);
                if (value == null || value.Length > 40 || !choices.Contains(value))
                {
                    var quoted = new List<string>();
                    foreach (string c in choices) quoted.Add(PyText.Repr(c));
                    throw Fail(name, "one of " + string.Join(", ", quoted), value == null ? "None" : PyText.Show(PyText.Repr(value)));
                }
            }
            double t = options.Truncation;
            if (double.IsNaN(t) || double.IsInfinity(t) || t < 0.0 || t > 1.5)
                throw Fail("truncation", "a number from 0 to 1.5", PyText.Repr(t));
            if (options.MixSeed < -1)
                throw Fail("mix_seed", "an integer from -1 to " + long.MaxValue.ToString(CultureInfo.InvariantCulture), options.MixSeed.ToString(CultureInfo.InvariantCulture));
            if (options.MixLayer < 1 || options.MixLayer >= NumWs)
                throw Fail("mix_layer", "an integer from 1 to " + (NumWs - 1), options.MixLayer.ToString(CultureInfo.InvariantCulture));
            string attrAllowed = "name:float pairs from -" + PyText.G(MaxAttributeStrength) + " to " + PyText.G(MaxAttributeStrength) + ", e.g. a:1.5,b:-1";
            string attrShown = PyText.Show(PyText.Repr(options.Attributes));
            if (options.Attributes.Count > MaxAttributes)
                throw Fail("attributes", attrAllowed, attrShown, "it has " + options.Attributes.Count + " entries (at most " + MaxAttributes + ")");
            foreach (var kv in options.Attributes)
            {
                if (string.IsNullOrEmpty(kv.Key) || kv.Key.Length > 100 || kv.Key.IndexOf('\0') >= 0)
                    throw Fail("attributes", attrAllowed, attrShown, "key " + PyText.Show(PyText.Repr(kv.Key ?? "")) + " is not a name");
                if (double.IsNaN(kv.Value) || double.IsInfinity(kv.Value))
                    throw Fail("attributes", attrAllowed, attrShown, kv.Key + " is not a finite number");
                if (kv.Value < -MaxAttributeStrength || kv.Value > MaxAttributeStrength)
                    throw Fail("attributes", attrAllowed, attrShown, kv.Key + "=" + PyText.G(kv.Value) + " is out of range");
            }
        }

        // the generator's validate: what depends on the model (unknown attributes, labels on
        // a model without them)
        void ValidateForModel(PortraitOptions options)
        {
            foreach (string name in SortedAttributes(options))
            {
                if (!attributes.ContainsKey(name))
                {
                    var known = new List<string>(attributes.Keys);
                    known.Sort(string.CompareOrdinal);
                    throw new InvalidOptionsException("option 'attributes': unknown attribute " + PyText.Repr(name) + "; known: " + string.Join(", ", known), "attributes", name);
                }
            }
            if (Unconditional)
                foreach (string name in PortraitOptions.LabelOptionNames)
                {
                    string value = options.LabelOf(name);
                    if (value != LabelModel.Random)
                        throw new InvalidOptionsException("option '" + name + "': model '" + Path.GetFileName(folder.Directory) + "' takes no labels (it was trained on unlabelled art); leave " + name + " at 'random'", name, value);
                }
        }

        static List<string> SortedAttributes(PortraitOptions options)
        {
            var names = new List<string>(options.Attributes.Keys);
            names.Sort(string.CompareOrdinal); // Python: dict(sorted(...)), code point order
            return names;
        }

        Dictionary<string, int> FixedLabels(PortraitOptions options)
        {
            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var kv in Labels.Options)
            {
                int code = Labels.Code(kv.Key, options.LabelOf(kv.Key));
                if (code >= 0) result[kv.Value] = code;
            }
            return result;
        }

        // -- generation ---------------------------------------------------------------------

        /// <summary>The sprite of one seed.</summary>
        public PortraitImage Generate(long seed, PortraitOptions options = null)
        {
            return GenerateBatch(new[] { seed }, options)[0];
        }

        /// <summary>Sprites of several seeds, through the graphs in calls of at most
        /// <see cref="CallBatch"/> faces, as the Python API makes them.</summary>
        public List<PortraitImage> GenerateBatch(IList<long> seeds, PortraitOptions options = null)
        {
            options = options ?? new PortraitOptions();
            foreach (long seed in seeds) RequestChecks.Seed(seed);
            Validate(options);
            if (Unconditional) return GenerateUnconditional(seeds, options);
            var batch = LabelBatch(seeds, options);
            var images = Synthesise(batch.Ws, batch.Maps16, batch.Shape16, batch.Maps32, batch.Shape32, seeds.Count);
            var result = new List<PortraitImage>();
            for (int i = 0; i < seeds.Count; i++)
                result.Add(new PortraitImage(images.Width, images.Height, images.Pixels[i], seeds[i], Labels.Readable(batch.Codes[i])));
            return result;
        }

        /// <summary>What label_batch gives in Python: ws (N x num_ws x w_dim), the label maps
        /// of each face and its label codes.</summary>
        sealed class Batch
        {
            public float[] Ws, Maps16, Maps32;
            public long[] Shape16, Shape32;
            public List<Dictionary<string, int>> Codes;
        }

        // label_batch: truncation and attribute vectors on w, style mixing from mix_seed's own
        // label set (drawn with no options); options already validated
        Batch LabelBatch(IList<long> seeds, PortraitOptions options)
        {
            int n = seeds.Count;
            var codes = Labels.DrawBatch(seeds, FixedLabels(options));
            int size = Labels.Size;
            bool mixing = options.MixSeed >= 0;
            var rows = new List<float[]>();
            foreach (var c in codes) rows.Add(Labels.Weights(c));
            if (mixing) rows.Add(Labels.Weights(Labels.Draw(options.MixSeed, new Dictionary<string, int>())));
            var names = SortedAttributes(options);
            foreach (string name in names)
            {
                KeyValuePair<string, int> swap;
                if (!labelAttributes.TryGetValue(name, out swap)) continue;
                LabelColumn col = Labels.Column(swap.Key);
                for (int i = 0; i < n; i++)
                {
                    var moved = (float[])rows[i].Clone();
                    for (int k = 0; k < col.Values.Count; k++) moved[col.Offset + k] = 0f;
                    moved[col.Offset + swap.Value] = 1f;
                    rows.Add(moved);
                }
            }
            float[] w; float[] m16; float[] m32; long[] s16; long[] s32;
            MapLabels(rows, size, out w, out m16, out s16, out m32, out s32);
            int d = WDim;
            float psi = (float)options.Truncation;
            var ws = new float[n * NumWs * d];
            var truncated = new float[d];
            for (int i = 0; i < n; i++)
            {
                Truncate(w, i * d, psi, truncated);
                for (int l = 0; l < NumWs; l++) Array.Copy(truncated, 0, ws, (i * NumWs + l) * d, d);
            }
            if (mixing)
            {
                Truncate(w, n * d, psi, truncated);
                for (int i = 0; i < n; i++)
                    for (int l = options.MixLayer; l < NumWs; l++) Array.Copy(truncated, 0, ws, (i * NumWs + l) * d, d);
            }
            int at = n + (mixing ? 1 : 0);
            foreach (string name in names)
            {
                float strength = (float)options.Attributes[name];
                if (labelAttributes.ContainsKey(name))
                {
                    // per face: toward the w of this very face with the colour swapped in
                    float scale = strength * psi;
                    for (int i = 0; i < n; i++)
                    {
                        int sw = (at + i) * d, b = i * d;
                        for (int k = 0; k < d; k++)
                        {
                            float diff = w[sw + k] - w[b + k];
                            float delta = scale * diff;
                            for (int l = 0; l < NumWs; l++)
                            {
                                int o = (i * NumWs + l) * d + k;
                                ws[o] = ws[o] + delta;
                            }
                        }
                    }
                    at += n;
                }
                else
                {
                    float[] vector = attributes[name].Vector;
                    for (int i = 0; i < n; i++)
                        for (int l = 0; l < NumWs; l++)
                            for (int k = 0; k < d; k++)
                            {
                                float delta = strength * vector[k];
                                int o = (i * NumWs + l) * d + k;
                                ws[o] = ws[o] + delta;
                            }
                }
            }
            long per16 = m16.Length / s16[0], per32 = m32.Length / s32[0];
            var first16 = new float[n * per16];
            Array.Copy(m16, first16, first16.Length);
            var first32 = new float[n * per32];
            Array.Copy(m32, first32, first32.Length);
            s16[0] = n;
            s32[0] = n;
            return new Batch { Ws = ws, Maps16 = first16, Shape16 = s16, Maps32 = first32, Shape32 = s32, Codes = codes };
        }

        // -- unconditional models ------------------------------------------------------------

        public const string Prefix = "synthesis_prefix.onnx", Suffix = "synthesis_suffix.onnx";

        // plugin.py generate_batch for an unconditional model: CALL_BATCH seeds at a time,
        // ws_batch (one mapping run with the mix seed), prefix, suffix with a zero delta
        List<PortraitImage> GenerateUnconditional(IList<long> seeds, PortraitOptions options)
        {
            var result = new List<PortraitImage>();
            for (int start = 0; start < seeds.Count; start += CallBatch)
            {
                int count = Math.Min(CallBatch, seeds.Count - start);
                var part = new List<long>();
                for (int i = 0; i < count; i++) part.Add(seeds[start + i]);
                float[] ws = WsBatch(part, options);
                var sprites = Render(ws, count);
                for (int i = 0; i < count; i++)
                    result.Add(new PortraitImage(sprites.Width, sprites.Height, sprites.Pixels[i], part[i], null));
            }
            return result;
        }

        /// <summary>z of one seed: the portable normals of stream "portraits.latent".</summary>
        float[] LatentOf(long seed)
        {
            double[] normals = new SeedStream(seed, "portraits.latent").StandardNormal(ZDim);
            var z = new float[ZDim];
            for (int i = 0; i < ZDim; i++) z[i] = (float)normals[i];
            return z;
        }

        // plugin.py ws_batch: len(seeds) x num_ws x w_dim, truncation, mixing, attribute vectors
        float[] WsBatch(IList<long> seeds, PortraitOptions options)
        {
            bool mixing = options.MixSeed >= 0;
            var all = new List<long>(seeds);
            if (mixing) all.Add(options.MixSeed);
            var z = new float[all.Count * ZDim];
            for (int i = 0; i < all.Count; i++) Array.Copy(LatentOf(all[i]), 0, z, i * ZDim, ZDim);
            var outputs = folder.Session("mapping.onnx").Run(new Dictionary<string, Tensor>
            {
                { "z", new Tensor(new long[] { all.Count, ZDim }, z) },
            });
            float[] w = Output(outputs, "mapping.onnx", 0, "w").Data;
            float psi = (float)options.Truncation;
            int n = seeds.Count, d = WDim;
            var truncated = new float[all.Count * d];
            var row = new float[d];
            for (int i = 0; i < all.Count; i++)
            {
                Truncate(w, i * d, psi, row);
                Array.Copy(row, 0, truncated, i * d, d);
            }
            var ws = new float[n * NumWs * d];
            for (int i = 0; i < n; i++)
                for (int l = 0; l < NumWs; l++)
                    Array.Copy(truncated, (mixing && l >= options.MixLayer ? n : i) * d, ws, (i * NumWs + l) * d, d);
            foreach (string name in SortedAttributes(options))
            {
                float strength = (float)options.Attributes[name];
                float[] vector = attributes[name].Vector;
                for (int o = 0; o < ws.Length; o++)
                {
                    float delta = strength * vector[o % d];
                    ws[o] = ws[o] + delta;
                }
            }
            return ws;
        }

        // prefix then suffix with a zero delta: the still of each ws
        Sprites Render(float[] ws, int count)
        {
            var prefix = folder.Session(Prefix).Run(new Dictionary<string, Tensor>
            {
                { "ws", new Tensor(new long[] { count, NumWs, WDim }, ws) },
            });
            Tensor features = Output(prefix, Prefix, 0, "features"), skip = Output(prefix, Prefix, 1, "skip");
            var outputs = folder.Session(Suffix).Run(new Dictionary<string, Tensor>
            {
                { "features", features },
                { "skip", skip },
                { "ws", new Tensor(new long[] { count, NumWs, WDim }, ws) },
                { "delta", new Tensor(features.Shape, new float[features.Data.Length]) },
            });
            Tensor rgba = Output(outputs, Suffix, 0, "rgba");
            if (rgba.Shape.Length != 4 || rgba.Shape[1] != 4 || rgba.Shape[0] != count)
                throw new ModelException(Suffix + ": output rgba has shape [" + string.Join(", ", rgba.Shape) + "], not [batch, 4, height, width]");
            var sprites = new Sprites { Height = (int)rgba.Shape[2], Width = (int)rgba.Shape[3] };
            for (int i = 0; i < count; i++) sprites.Pixels.Add(ToUint8(rgba.Data, i, sprites.Height, sprites.Width));
            return sprites;
        }

        // w_avg + psi * (w - w_avg), each operation rounded to float32 as numpy does
        void Truncate(float[] w, int offset, float psi, float[] output)
        {
            for (int k = 0; k < WDim; k++)
            {
                float diff = w[offset + k] - WAvg[k];
                float scaled = psi * diff;
                output[k] = WAvg[k] + scaled;
            }
        }

        void MapLabels(List<float[]> rows, int size, out float[] w, out float[] m16, out long[] s16, out float[] m32, out long[] s32)
        {
            var session = folder.Session("mapping.onnx");
            var wParts = new List<Tensor>();
            var p16 = new List<Tensor>();
            var p32 = new List<Tensor>();
            for (int start = 0; start < rows.Count; start += CallBatch)
            {
                int count = Math.Min(CallBatch, rows.Count - start);
                var input = new float[count * size];
                for (int i = 0; i < count; i++) Array.Copy(rows[start + i], 0, input, i * size, size);
                var outputs = session.Run(new Dictionary<string, Tensor> { { "label_weights", new Tensor(new long[] { count, size }, input) } });
                wParts.Add(Output(outputs, "mapping.onnx", 0, "w"));
                p16.Add(Output(outputs, "mapping.onnx", 1, "maps16"));
                p32.Add(Output(outputs, "mapping.onnx", 2, "maps32"));
            }
            w = Concat(wParts, out long[] sw);
            if (sw.Length != 2 || sw[1] != WDim)
                throw new ModelException("mapping.onnx: output w has shape [" + string.Join(", ", sw) + "]; the manifest's w_dim is " + WDim);
            m16 = Concat(p16, out s16);
            m32 = Concat(p32, out s32);
        }

        // output number `index` of a run, by position as Python's session.run(None, ...)
        // unpacks them (the names are the graph's own)
        Tensor Output(Dictionary<string, Tensor> outputs, string graph, int index, string what)
        {
            var names = folder.Session(graph).OutputNames;
            if (index >= names.Count)
                throw new ModelException(graph + " has " + names.Count + " outputs; the runtime needs " + what + " as output " + (index + 1));
            return outputs[names[index]];
        }

        static float[] Concat(List<Tensor> parts, out long[] shape)
        {
            long total = 0;
            foreach (var p in parts) total += p.Data.Length;
            var data = new float[total];
            long at = 0;
            long rows = 0;
            foreach (var p in parts)
            {
                Array.Copy(p.Data, 0, data, at, p.Data.Length);
                at += p.Data.Length;
                rows += p.Shape[0];
            }
            shape = (long[])parts[0].Shape.Clone();
            shape[0] = rows;
            return data;
        }

        sealed class Sprites
        {
            public int Width, Height;
            public List<byte[]> Pixels = new List<byte[]>();
        }

        Sprites Synthesise(float[] ws, float[] m16, long[] s16, float[] m32, long[] s32, int n)
        {
            var session = folder.Session("synthesis.onnx");
            var sprites = new Sprites();
            long per16 = m16.Length / s16[0], per32 = m32.Length / s32[0];
            int perWs = NumWs * WDim;
            for (int start = 0; start < n; start += CallBatch)
            {
                int count = Math.Min(CallBatch, n - start);
                var wsPart = new float[count * perWs];
                Array.Copy(ws, start * perWs, wsPart, 0, wsPart.Length);
                var a16 = new float[count * per16];
                Array.Copy(m16, start * per16, a16, 0, a16.Length);
                var a32 = new float[count * per32];
                Array.Copy(m32, start * per32, a32, 0, a32.Length);
                var shape16 = (long[])s16.Clone(); shape16[0] = count;
                var shape32 = (long[])s32.Clone(); shape32[0] = count;
                var outputs = session.Run(new Dictionary<string, Tensor>
                {
                    { "ws", new Tensor(new long[] { count, NumWs, WDim }, wsPart) },
                    { "maps16", new Tensor(shape16, a16) },
                    { "maps32", new Tensor(shape32, a32) },
                });
                Tensor rgba = Output(outputs, "synthesis.onnx", 0, "rgba");
                if (rgba.Shape.Length != 4 || rgba.Shape[1] != 4 || rgba.Shape[0] != count)
                    throw new ModelException("synthesis.onnx: output rgba has shape [" + string.Join(", ", rgba.Shape) + "], not [batch, 4, height, width]");
                sprites.Height = (int)rgba.Shape[2];
                sprites.Width = (int)rgba.Shape[3];
                for (int i = 0; i < count; i++) sprites.Pixels.Add(ToUint8(rgba.Data, i, sprites.Height, sprites.Width));
            }
            return sprites;
        }

        /// <summary>Python's to_uint8_batch for image <paramref name="index"/> of an NCHW float
        /// batch: clip to [0, 1], times 255 in float32, round half to even, HWC order, and
        /// every pixel with alpha 0 set to all zero.</summary>
        public static byte[] ToUint8(float[] nchw, int index, int height, int width)
        {
            int plane = height * width;
            var output = new byte[plane * 4];
            int baseIndex = index * 4 * plane;
            for (int c = 0; c < 4; c++)
            {
                for (int p = 0; p < plane; p++)
                {
                    float v = nchw[baseIndex + c * plane + p];
                    if (v < 0f) v = 0f;
                    if (v > 1f) v = 1f;
                    float scaled = v * 255f;
                    output[p * 4 + c] = (byte)Math.Round((double)scaled, MidpointRounding.ToEven);
                }
            }
            for (int p = 0; p < plane; p++)
            {
                if (output[p * 4 + 3] == 0)
                {
                    output[p * 4] = 0;
                    output[p * 4 + 1] = 0;
                    output[p * 4 + 2] = 0;
                }
            }
            return output;
        }

        public void Dispose()
        {
            folder.Dispose();
        }
    }
}
