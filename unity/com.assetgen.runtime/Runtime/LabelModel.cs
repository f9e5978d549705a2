// The label side of a label-conditioned portraits model (Python:
// plugins/assetgen_portraits/labels.py, LabelModel): the label space, which values each label
// option accepts, the seed's label draw (assetgen.seeds stream "portraits.labels"), and the
// one-hot label weights mapping.onnx takes. Everything is read from manifest.json.
using System;
using System.Collections.Generic;

namespace AssetGen.Runtime
{
    /// <summary>One column of the label space: its values and its offset in the weights.</summary>
    public sealed class LabelColumn
    {
        public string Name { get; }
        public IReadOnlyList<string> Values { get; }
        public int Offset { get; }

        internal LabelColumn(string name, List<string> values, int offset)
        {
            Name = name;
            Values = values;
            Offset = offset;
        }

        public int IndexOf(string value)
        {
            for (int i = 0; i < Values.Count; i++) if (Values[i] == value) return i;
            return -1;
        }
    }

    public sealed class LabelModel
    {
        public const string Random = "random";
        /// <summary>The seed stream purpose of a face's label set (docs/seeds.md).</summary>
        public const string LabelPurpose = "portraits.labels";

        readonly List<LabelColumn> columns = new List<LabelColumn>();
        readonly Dictionary<string, LabelColumn> byName = new Dictionary<string, LabelColumn>(StringComparer.Ordinal);
        readonly List<KeyValuePair<string, string>> options = new List<KeyValuePair<string, string>>();
        readonly Dictionary<string, Dictionary<string, string>> colorNames = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        readonly Dictionary<string, HashSet<string>> untrained = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        readonly string given;
        readonly List<string> order = new List<string>();
        readonly double[] marginalCdf;
        readonly Dictionary<string, double[][]> conditionalCdf = new Dictionary<string, double[][]>(StringComparer.Ordinal);
        readonly Dictionary<string, Dictionary<string, string>> states = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        readonly List<Dictionary<string, List<string>>> families = new List<Dictionary<string, List<string>>>();
        readonly Dictionary<string, bool[]> footprints = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        readonly Dictionary<string, string> mouthShapes = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>Side of the mouth footprint masks (labels.py: _mask's size).</summary>
        public const int MaskSize = 64;
        public const string Mouth = "mouth", Eyes = "eyes";

        public IReadOnlyList<LabelColumn> Columns => columns;
        /// <summary>Total number of values: the length of label_weights.</summary>
        public int Size { get; }

        public LabelModel(Dictionary<string, object> manifest)
        {
            int at = 0;
            var space = ManifestFields.Array(ManifestFields.Get(manifest, "label_space", "label_space"), "label_space");
            for (int i = 0; i < space.Count; i++)
            {
                string field = "label_space[" + i + "]";
                var col = ManifestFields.Object(space[i], field);
                string name = ManifestFields.String(ManifestFields.Get(col, "name", field + ".name"), field + ".name");
                var values = new List<string>();
                foreach (object v in ManifestFields.Array(ManifestFields.Get(col, "values", field + ".values"), field + ".values"))
                    values.Add(ManifestFields.String(v, field + ".values"));
                var column = new LabelColumn(name, values, at);
                columns.Add(column);
                byName[name] = column;
                at += values.Count;
            }
            Size = at;
            foreach (var kv in ManifestFields.Object(ManifestFields.Get(manifest, "options", "options"), "options"))
            {
                string column = ManifestFields.String(kv.Value, "options." + kv.Key);
                if (!byName.ContainsKey(column))
                    throw ManifestFields.Bad("options", "maps " + PyText.Repr(kv.Key) + " to an unknown column " + PyText.Repr(column));
                options.Add(new KeyValuePair<string, string>(kv.Key, column));
            }
            object namesValue;
            if (manifest.TryGetValue("color_names", out namesValue))
                ReadTextTables(namesValue, "color_names", colorNames);
            object untrainedValue;
            if (manifest.TryGetValue("untrained_values", out untrainedValue))
            {
                foreach (var kv in ManifestFields.Object(untrainedValue, "untrained_values"))
                {
                    var set = new HashSet<string>(StringComparer.Ordinal);
                    foreach (object v in ManifestFields.Array(kv.Value, "untrained_values." + kv.Key))
                        set.Add(ManifestFields.String(v, "untrained_values." + kv.Key));
                    untrained[kv.Key] = set;
                }
            }
            var sampling = ManifestFields.Object(ManifestFields.Get(manifest, "label_sampling", "label_sampling"), "label_sampling");
            given = ManifestFields.String(ManifestFields.Get(sampling, "given", "label_sampling.given"), "label_sampling.given");
            if (!byName.ContainsKey(given))
                throw ManifestFields.Bad("label_sampling.given", "names an unknown column " + PyText.Repr(given));
            foreach (object o in ManifestFields.Array(ManifestFields.Get(sampling, "order", "label_sampling.order"), "label_sampling.order"))
                order.Add(ManifestFields.String(o, "label_sampling.order"));
            double[] marginal = Row(ManifestFields.Get(sampling, "marginal", "label_sampling.marginal"), "label_sampling.marginal");
            if (marginal.Length != byName[given].Values.Count)
                throw ManifestFields.Bad("label_sampling.marginal", "does not match its column's values");
            marginalCdf = SeedStream.RunningSum(marginal);
            var conditional = ManifestFields.Object(ManifestFields.Get(sampling, "conditional", "label_sampling.conditional"), "label_sampling.conditional");
            foreach (string name in order)
            {
                LabelColumn col;
                object tableValue;
                if (!byName.TryGetValue(name, out col) || !conditional.TryGetValue(name, out tableValue))
                    throw ManifestFields.Bad("label_sampling.order", "names " + PyText.Repr(name) + " without a table or column");
                string field = "label_sampling.conditional." + name;
                var rows = ManifestFields.Array(tableValue, field);
                if (rows.Count != marginal.Length)
                    throw ManifestFields.Bad(field, "has " + rows.Count + " rows; the given column has " + marginal.Length + " values");
                var cdf = new double[rows.Count][];
                for (int r = 0; r < rows.Count; r++)
                {
                    double[] row = Row(rows[r], field);
                    if (row.Length != col.Values.Count)
                        throw ManifestFields.Bad(field, "has a row of " + row.Length + " values; the column has " + col.Values.Count);
                    cdf[r] = SeedStream.RunningSum(row);
                }
                conditionalCdf[name] = cdf;
            }
            ReadAnimationFields(manifest);
        }

        // a manifest object of objects of text (color_names, states): into[key][inner key] = text
        static void ReadTextTables(object value, string field, Dictionary<string, Dictionary<string, string>> into)
        {
            foreach (var kv in ManifestFields.Object(value, field))
            {
                var table = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var tv in ManifestFields.Object(kv.Value, field + "." + kv.Key))
                    table[tv.Key] = ManifestFields.String(tv.Value, field + "." + kv.Key + "." + tv.Key);
                into[kv.Key] = table;
            }
        }

        // the animation fields: states, mouth_families, regions.mouth (labels.py reads them for
        // every model; a model without them can still make stills)
        void ReadAnimationFields(Dictionary<string, object> manifest)
        {
            object value;
            if (manifest.TryGetValue("states", out value))
                ReadTextTables(value, "states", states);
            if (manifest.TryGetValue("mouth_families", out value))
            {
                var list = ManifestFields.Array(value, "mouth_families");
                for (int i = 0; i < list.Count; i++)
                {
                    string field = "mouth_families[" + i + "]";
                    var family = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                    foreach (var kv in ManifestFields.Object(list[i], field))
                    {
                        var values = new List<string>();
                        foreach (object v in ManifestFields.Array(kv.Value, field + "." + kv.Key)) values.Add(ManifestFields.String(v, field + "." + kv.Key));
                        family[kv.Key] = values;
                    }
                    if (!family.ContainsKey("closed") || !family.ContainsKey("open"))
                        throw ManifestFields.Bad(field, "needs 'closed' and 'open' lists");
                    families.Add(family);
                }
            }
            LabelColumn mouth = Column(Mouth);
            if (manifest.TryGetValue("mouth_shapes", out value))
                foreach (var kv in ManifestFields.Object(value, "mouth_shapes"))
                {
                    string variant = ManifestFields.String(kv.Value, "mouth_shapes." + kv.Key);
                    if (mouth == null || mouth.IndexOf(variant) < 0)
                        throw ManifestFields.Bad("mouth_shapes." + kv.Key, "names an unknown mouth " + PyText.Repr(variant));
                    mouthShapes[kv.Key] = variant;
                }
            if (manifest.TryGetValue("regions", out value))
            {
                object mouthRegions;
                if (ManifestFields.Object(value, "regions").TryGetValue(Mouth, out mouthRegions))
                    foreach (var kv in ManifestFields.Object(mouthRegions, "regions.mouth"))
                    {
                        string field = "regions.mouth." + kv.Key;
                        if (mouth == null || mouth.IndexOf(kv.Key) < 0) throw ManifestFields.Bad(field, "names an unknown mouth");
                        var mask = new bool[MaskSize * MaskSize];
                        bool any = false;
                        foreach (object r in ManifestFields.Array(kv.Value, field))
                        {
                            var run = ManifestFields.Array(r, field);
                            if (run.Count != 3) throw ManifestFields.Bad(field, "holds a run that is not [row, first, end]");
                            long row = (long)ManifestFields.Number(run[0], field), first = (long)ManifestFields.Number(run[1], field), end = (long)ManifestFields.Number(run[2], field);
                            if (!(row >= 0 && row < MaskSize && first >= 0 && first <= end && end <= MaskSize))
                                throw ManifestFields.Bad(field, "holds a run outside " + MaskSize + " x " + MaskSize);
                            for (long x = first; x < end; x++) { mask[row * MaskSize + x] = true; any = true; }
                        }
                        if (!any) throw ManifestFields.Bad(field, "is empty");
                        footprints[kv.Key] = mask;
                    }
            }
        }

        string StateOf(string column, string value)
        {
            Dictionary<string, string> map;
            string state;
            return states.TryGetValue(column, out map) && map.TryGetValue(value, out state) ? state : null;
        }

        static List<string> FamilyList(Dictionary<string, List<string>> family, string key)
        {
            List<string> list;
            return family.TryGetValue(key, out list) ? list : new List<string>();
        }

        /// <summary>(closed, half-open or null, open) mouths for a face whose still has
        /// <paramref name="mouth"/> (labels.py mouth_states; stream "portraits.mouth_states").</summary>
        public string[] MouthStates(string mouth, long seed)
        {
            if (families.Count == 0) throw ManifestFields.Bad("mouth_families", "is missing; the model cannot animate the mouth");
            var rng = new SeedStream(seed, "portraits.mouth_states");
            Dictionary<string, List<string>> family = null;
            foreach (var f in families)
                if (FamilyList(f, "closed").Contains(mouth) || FamilyList(f, "open").Contains(mouth) || FamilyList(f, "half").Contains(mouth)) { family = f; break; }
            family = family ?? families[0];
            List<string> closed = FamilyList(family, "closed"), open = FamilyList(family, "open"), half = FamilyList(family, "half");
            string shut = closed[rng.Below(closed.Count)];
            string opened = open[rng.Below(open.Count)];
            string halfOpen = half.Count > 0 ? half[rng.Below(half.Count)] : null;
            if (half.Contains(mouth)) halfOpen = mouth;
            else if (open.Contains(mouth) || (!closed.Contains(mouth) && StateOf(Mouth, mouth) == "open")) opened = mouth;
            else shut = mouth;
            return new[] { shut, halfOpen, opened };
        }

        /// <summary>Whether the model draws the nine Rhubarb mouth shapes (manifest
        /// "mouth_shapes").</summary>
        public bool HasMouthShapes => mouthShapes.Count > 0;

        /// <summary>Rhubarb shape letter -> mouth variant for a face whose still has
        /// <paramref name="stillMouth"/>: the manifest's mouth_shapes, except that the rest
        /// shape X is the face's own mouth when that mouth is closed (labels.py shape_mouths).</summary>
        public Dictionary<string, string> ShapeMouths(string stillMouth)
        {
            var shapes = new Dictionary<string, string>(mouthShapes, StringComparer.Ordinal);
            if (shapes.ContainsKey("X") && StateOf(Mouth, stillMouth) == "closed") shapes["X"] = stillMouth;
            return shapes;
        }

        /// <summary>When each column's drawing changes over in a morph (share of the way;
        /// labels.py MORPH_SCHEDULE; other columns at 0.5).</summary>
        public static readonly Dictionary<string, double> MorphSchedule = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            { "skinColor", 0.5 }, { "hairColor", 0.5 }, { "hair", 0.5 }, { "eyebrows", 0.35 }, { "eyes", 0.4 },
            { "mouth", 0.6 }, { "glasses", 0.3 }, { "earrings", 0.7 }, { "details", 0.65 },
        };

        /// <summary>Label weights from a to b over t (labels.py morph with MORPH_WIDTH 0):
        /// each column swaps over at once at its own moment, t &gt;= moment compared in
        /// float32 as numpy compares a float32 array with a Python float.</summary>
        public List<float[]> Morph(float[] a, float[] b, float[] t)
        {
            var rows = new List<float[]>();
            foreach (float time in t)
            {
                var row = new float[Size];
                foreach (var col in columns)
                {
                    double centre;
                    if (!MorphSchedule.TryGetValue(col.Name, out centre)) centre = 0.5;
                    bool after = time >= (float)centre;
                    for (int k = 0; k < col.Values.Count; k++)
                        row[col.Offset + k] = after ? b[col.Offset + k] : a[col.Offset + k];
                }
                rows.Add(row);
            }
            return rows;
        }

        /// <summary>(open, closed) eyes for a face whose still has <paramref name="eyes"/>
        /// (labels.py eyes_pair; stream "portraits.eye_states").</summary>
        public string[] EyesPair(string eyes, long seed)
        {
            var rng = new SeedStream(seed, "portraits.eye_states");
            var shut = new List<string>();
            var opened = new List<string>();
            foreach (string v in byName[Eyes].Values)
            {
                string state = StateOf(Eyes, v);
                if (state == "closed") shut.Add(v);
                else if (state == "open") opened.Add(v);
            }
            if (shut.Contains(eyes)) return new[] { opened[rng.Below(opened.Count)], eyes };
            return new[] { eyes, shut[rng.Below(shut.Count)] };
        }

        /// <summary>Per-pixel weights (size x size) of where a frame that swaps mouth a for b
        /// may differ from the still: the two footprints grown by one pixel, half weight one
        /// pixel further; null when the model has no footprints for them.</summary>
        public float[] MouthWeights(string a, string b, int size)
        {
            bool[] fa, fb;
            if (!footprints.TryGetValue(a, out fa) || !footprints.TryGetValue(b, out fb) || size != MaskSize) return null;
            var union = new bool[fa.Length];
            for (int i = 0; i < union.Length; i++) union[i] = fa[i] || fb[i];
            bool[] inner = Grow(union);
            bool[] outer = Grow(inner);
            var w = new float[union.Length];
            for (int i = 0; i < w.Length; i++) w[i] = inner[i] ? 1f : outer[i] ? 0.5f : 0f;
            return w;
        }

        static bool[] Grow(bool[] mask)
        {
            int n = MaskSize;
            var output = (bool[])mask.Clone();
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    if (!mask[y * n + x]) continue;
                    if (y + 1 < n) output[(y + 1) * n + x] = true;
                    if (y > 0) output[(y - 1) * n + x] = true;
                    if (x + 1 < n) output[y * n + x + 1] = true;
                    if (x > 0) output[y * n + x - 1] = true;
                }
            return output;
        }

        /// <summary>A copy of <paramref name="weights"/> per value, with
        /// <paramref name="column"/> set to that value.</summary>
        public List<float[]> FramesOf(float[] weights, string column, IList<string> values)
        {
            LabelColumn col = byName[column];
            var result = new List<float[]>();
            foreach (string v in values)
            {
                var row = (float[])weights.Clone();
                for (int k = 0; k < col.Values.Count; k++) row[col.Offset + k] = 0f;
                row[col.Offset + col.IndexOf(v)] = 1f;
                result.Add(row);
            }
            return result;
        }

        static double[] Row(object value, string field)
        {
            var list = ManifestFields.Array(value, field);
            var row = new double[list.Count];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = ManifestFields.Number(list[i], field);
                if (double.IsNaN(row[i]) || double.IsInfinity(row[i]) || row[i] < 0)
                    throw ManifestFields.Bad(field, "holds negative or non-finite values");
            }
            return row;
        }

        /// <summary>Label option name -> column, in manifest order.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Options => options;

        public bool HasOption(string option) => ColumnOf(option) != null;

        public LabelColumn Column(string name)
        {
            LabelColumn col;
            return byName.TryGetValue(name, out col) ? col : null;
        }

        string ColumnOf(string option)
        {
            foreach (var kv in options) if (kv.Key == option) return kv.Value;
            return null;
        }

        /// <summary>What a label option accepts, in order, and the column value each means:
        /// each value (colour columns: a name for it, then the hex code; their 'none' is not a
        /// choice), untrained values left out.</summary>
        public List<KeyValuePair<string, string>> Accepted(string option)
        {
            string column = ColumnOf(option);
            var result = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, string> names;
            bool colour = colorNames.TryGetValue(column, out names);
            HashSet<string> skip;
            untrained.TryGetValue(column, out skip);
            foreach (string value in byName[column].Values)
            {
                if ((skip != null && skip.Contains(value)) || (colour && value == "none")) continue;
                string name;
                if (colour && names.TryGetValue(value, out name) && seen.Add(name))
                    result.Add(new KeyValuePair<string, string>(name, value));
                if (seen.Add(value)) result.Add(new KeyValuePair<string, string>(value, value));
            }
            return result;
        }

        /// <summary>'random' and every accepted value (the option's allowed values).</summary>
        public List<string> Choices(string option)
        {
            var list = new List<string> { Random };
            foreach (var kv in Accepted(option)) list.Add(kv.Key);
            return list;
        }

        /// <summary>The value's index in its column, or -1 for 'random'; an unknown value is an
        /// <see cref="InvalidOptionsException"/> naming the option and listing the values.</summary>
        public int Code(string option, string value)
        {
            if (value == Random) return -1;
            string key = value.StartsWith("#", StringComparison.Ordinal) ? value.ToLowerInvariant() : value;
            foreach (var kv in Accepted(option))
                if (kv.Key == key) return byName[ColumnOf(option)].IndexOf(kv.Value);
            throw new InvalidOptionsException("option '" + option + "' must be one of " + string.Join(", ", Choices(option)) + "; got " + PyText.Repr(value), option, value);
        }

        /// <summary>Column -> code of each seed's label set; <paramref name="fix"/> (column ->
        /// code) wins over the draw. Seed s uses the stream (s, "portraits.labels"): uniform 0
        /// picks the given column from the marginal, uniform k the k-th column of the order from
        /// its row for that value; columns in neither are 0 unless fixed.</summary>
        public List<Dictionary<string, int>> DrawBatch(IList<long> seeds, IDictionary<string, int> fix)
        {
            var result = new List<Dictionary<string, int>>();
            foreach (long seed in seeds)
            {
                var stream = new SeedStream(seed, LabelPurpose);
                var u = new double[1 + order.Count];
                for (int k = 0; k < u.Length; k++) u[k] = stream.NextDouble();
                var drawn = new Dictionary<string, int>(StringComparer.Ordinal);
                int g;
                if (!fix.TryGetValue(given, out g)) g = SeedStream.Pick(marginalCdf, u[0]);
                drawn[given] = g;
                for (int k = 0; k < order.Count; k++)
                {
                    string name = order[k];
                    int code;
                    if (!fix.TryGetValue(name, out code)) code = SeedStream.Pick(conditionalCdf[name][g], u[k + 1]);
                    drawn[name] = code;
                }
                var row = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var col in columns)
                {
                    int code;
                    if (drawn.TryGetValue(col.Name, out code)) row[col.Name] = code;
                    else row[col.Name] = fix.TryGetValue(col.Name, out code) ? code : 0;
                }
                result.Add(row);
            }
            return result;
        }

        public Dictionary<string, int> Draw(long seed, IDictionary<string, int> fix)
        {
            return DrawBatch(new[] { seed }, fix)[0];
        }

        /// <summary>One one-hot block per column, side by side (label_weights).</summary>
        public float[] Weights(IDictionary<string, int> codes)
        {
            var w = new float[Size];
            foreach (var col in columns) w[col.Offset + codes[col.Name]] = 1f;
            return w;
        }

        /// <summary>Option name -> value (colour names where there is one), as the Python
        /// side's asset metadata "labels".</summary>
        public Dictionary<string, string> Readable(IDictionary<string, int> codes)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in options)
            {
                string value = byName[kv.Value].Values[codes[kv.Value]];
                Dictionary<string, string> names;
                string name;
                result[kv.Key] = colorNames.TryGetValue(kv.Value, out names) && names.TryGetValue(value, out name) ? name : value;
            }
            return result;
        }
    }
}
