// Local feature-map edits of unconditional portraits models (Python:
// plugins/assetgen_portraits/local_edits.py): the talk and blink animations of a model trained
// on unlabelled art add amount x gain x pattern to a few channels of the feature map at the
// split layer. float32 sums use numpy's pairwise summation (PairwiseSum32), float64 ones
// Drivers.PairwiseSum, so the states and deltas are numpy's.
using System;
using System.Collections.Generic;

namespace AssetGen.Runtime
{
    public sealed class LocalEdit
    {
        public string Name { get; }
        public int Layer { get; }
        public int[] Channels { get; }
        /// <summary>C x H x W of the whole feature map.</summary>
        public int[] Shape { get; }
        public int MaxShift { get; }
        public double Gain { get; }
        readonly float[] pattern, reference, template; // k x H x W, k x H x W, H x W
        /// <summary>The window graph's crop (y0, y1, x0, x1, map cells) and paste (pixels);
        /// null without a window.</summary>
        public int[] Crop { get; }
        public int[] Paste { get; }
        public string WindowGraph { get; }
        readonly int[] restCells; // y, x pairs
        readonly double[] restWeights; // C x cells
        readonly double restBias, restMargin, restFloor;
        readonly bool hasRest;

        int H => Shape[1];
        int W => Shape[2];

        public LocalEdit(string key, Dictionary<string, object> spec)
        {
            string f = "edits." + key;
            Name = ManifestFields.String(ManifestFields.Get(spec, "name", f + ".name"), f + ".name");
            Layer = (int)ManifestFields.Number(ManifestFields.Get(spec, "layer", f + ".layer"), f + ".layer");
            var channels = ManifestFields.Array(ManifestFields.Get(spec, "channels", f + ".channels"), f + ".channels");
            Channels = new int[channels.Count];
            for (int i = 0; i < Channels.Length; i++) Channels[i] = (int)ManifestFields.Number(channels[i], f + ".channels");
            var shape = ManifestFields.Array(ManifestFields.Get(spec, "shape", f + ".shape"), f + ".shape");
            if (shape.Count != 3) throw ManifestFields.Bad(f, "has shape of " + shape.Count + " dimensions, not C x H x W");
            Shape = new int[3];
            for (int i = 0; i < 3; i++) Shape[i] = (int)ManifestFields.Number(shape[i], f + ".shape");
            object value;
            MaxShift = spec.TryGetValue("max_shift", out value) ? (int)ManifestFields.Number(value, f + ".max_shift") : 1;
            Gain = spec.TryGetValue("gain", out value) ? ManifestFields.Number(value, f + ".gain") : 1.0;
            int k = Channels.Length, plane = H * W;
            pattern = Floats(ManifestFields.Get(spec, "pattern", f + ".pattern"), f + ".pattern", k * plane);
            reference = Floats(ManifestFields.Get(spec, "reference", f + ".reference"), f + ".reference", k * plane);
            template = Floats(ManifestFields.Get(spec, "template", f + ".template"), f + ".template", plane);
            foreach (int c in Channels)
                if (c < 0 || c >= Shape[0]) throw ManifestFields.Bad(f + ".channels", "must be 0 to " + (Shape[0] - 1));
            if (MaxShift == 0 && spec.TryGetValue("window", out value) && value != null)
            {
                var window = ManifestFields.Object(value, f + ".window");
                Crop = Ints(ManifestFields.Get(window, "crop", f + ".window.crop"), f + ".window.crop", 4);
                Paste = Ints(ManifestFields.Get(window, "paste", f + ".window.paste"), f + ".window.paste", 4);
                WindowGraph = ManifestFields.String(ManifestFields.Get(window, "graph", f + ".window.graph"), f + ".window.graph");
                if (!(0 <= Crop[0] && Crop[0] < Crop[1] && Crop[1] <= H && 0 <= Crop[2] && Crop[2] < Crop[3] && Crop[3] <= W))
                    throw ManifestFields.Bad(f + ".window.crop", "[" + string.Join(", ", Crop) + "] is outside the " + H + " x " + W + " map");
            }
            if (MaxShift == 0 && spec.TryGetValue("rest", out value) && value != null)
            {
                var rest = ManifestFields.Object(value, f + ".rest");
                var cells = ManifestFields.Array(ManifestFields.Get(rest, "cells", f + ".rest.cells"), f + ".rest.cells");
                restCells = new int[cells.Count * 2];
                for (int i = 0; i < cells.Count; i++)
                {
                    int[] cell = Ints(cells[i], f + ".rest.cells", 2);
                    restCells[2 * i] = cell[0];
                    restCells[2 * i + 1] = cell[1];
                }
                var weights = new List<double>();
                Flatten(ManifestFields.Get(rest, "weights", f + ".rest.weights"), f + ".rest.weights", weights);
                if (weights.Count != Shape[0] * cells.Count) throw ManifestFields.Bad(f + ".rest.weights", "has " + weights.Count + " values; channels x cells is " + Shape[0] * cells.Count);
                restWeights = weights.ToArray();
                restBias = ManifestFields.Number(ManifestFields.Get(rest, "bias", f + ".rest.bias"), f + ".rest.bias");
                restMargin = ManifestFields.Number(ManifestFields.Get(rest, "margin", f + ".rest.margin"), f + ".rest.margin");
                restFloor = ManifestFields.Number(ManifestFields.Get(rest, "floor", f + ".rest.floor"), f + ".rest.floor");
                hasRest = true;
            }
        }

        static void Flatten(object value, string field, List<double> output)
        {
            if (value is List<object> list) foreach (object item in list) Flatten(item, field, output);
            else output.Add(ManifestFields.Number(value, field));
        }

        static float[] Floats(object value, string field, int count)
        {
            var values = new List<double>();
            Flatten(value, field, values);
            if (values.Count != count) throw ManifestFields.Bad(field, "has " + values.Count + " values; " + count + " expected");
            var output = new float[count];
            for (int i = 0; i < count; i++) output[i] = (float)values[i];
            return output;
        }

        static int[] Ints(object value, string field, int count)
        {
            var values = new List<double>();
            Flatten(value, field, values);
            if (values.Count != count) throw ManifestFields.Bad(field, "has " + values.Count + " values; " + count + " expected");
            var output = new int[count];
            for (int i = 0; i < count; i++) output[i] = (int)values[i];
            return output;
        }

        /// <summary>numpy's pairwise summation of float32 values (float32 accumulators).</summary>
        public static float PairwiseSum32(float[] a, int start, int n)
        {
            if (n < 8)
            {
                float res = -0.0f;
                for (int i = 0; i < n; i++) res = res + a[start + i];
                return res;
            }
            if (n <= 128)
            {
                var r = new float[8];
                for (int j = 0; j < 8; j++) r[j] = a[start + j];
                int i = 8;
                for (; i < n - (n % 8); i += 8)
                    for (int j = 0; j < 8; j++) r[j] = r[j] + a[start + i + j];
                float s01 = r[0] + r[1], s23 = r[2] + r[3], s45 = r[4] + r[5], s67 = r[6] + r[7];
                float left = s01 + s23, right = s45 + s67;
                float res = left + right;
                for (; i < n; i++) res = res + a[start + i];
                return res;
            }
            int n2 = n / 2;
            n2 -= n2 % 8;
            float lo = PairwiseSum32(a, start, n2);
            float hi = PairwiseSum32(a, start + n2, n - n2);
            return lo + hi;
        }

        // shift the last two axes of `planes` planes of H x W by (dy, dx), zeros filling
        float[] Shift(float[] a, int planes, int dy, int dx)
        {
            if (dy == 0 && dx == 0) return a;
            var output = new float[a.Length];
            for (int p = 0; p < planes; p++)
                for (int y = 0; y < H; y++)
                {
                    int sy = y - dy;
                    if (sy < 0 || sy >= H) continue;
                    for (int x = 0; x < W; x++)
                    {
                        int sx = x - dx;
                        if (sx < 0 || sx >= W) continue;
                        output[(p * H + y) * W + x] = a[(p * H + sy) * W + sx];
                    }
                }
            return output;
        }

        // the edit channels of one character's feature map (C x H x W), k x H x W
        float[] EditChannels(float[] features)
        {
            int plane = H * W;
            var output = new float[Channels.Length * plane];
            for (int i = 0; i < Channels.Length; i++) Array.Copy(features, Channels[i] * plane, output, i * plane, plane);
            return output;
        }

        /// <summary>(dy, dx) that best aligns the template with this character's edit channels.</summary>
        public int[] Locate(float[] features)
        {
            if (MaxShift == 0) return new[] { 0, 0 };
            int plane = H * W, k = Channels.Length;
            float[] channels = EditChannels(features);
            var act = new float[plane];
            for (int i = 0; i < k; i++)
                for (int p = 0; p < plane; p++)
                {
                    float v = Math.Abs(channels[i * plane + p]);
                    act[p] = i == 0 ? v : act[p] + v;
                }
            float actMean = PairwiseSum32(act, 0, plane) / (float)plane;
            for (int p = 0; p < plane; p++) act[p] = act[p] - actMean;
            int[] best = { 0, 0 };
            double bestScore = double.NegativeInfinity;
            var product = new float[plane];
            for (int dy = -MaxShift; dy <= MaxShift; dy++)
                for (int dx = -MaxShift; dx <= MaxShift; dx++)
                {
                    float[] t = Shift(template, 1, dy, dx);
                    float tMean = PairwiseSum32(t, 0, plane) / (float)plane;
                    for (int p = 0; p < plane; p++)
                    {
                        float centred = t[p] - tMean;
                        product[p] = act[p] * centred;
                    }
                    double score = PairwiseSum32(product, 0, plane);
                    score -= 1e-6 * (Math.Abs(dy) + Math.Abs(dx));
                    if (score > bestScore)
                    {
                        best = new[] { dy, dx };
                        bestScore = score;
                    }
                }
            return best;
        }

        /// <summary>How "on" the character is: 0 like the average off state, 1 like pattern + it.</summary>
        public double State(float[] features, int[] where)
        {
            int plane = H * W, k = Channels.Length;
            float[] p = Shift(pattern, k, where[0], where[1]);
            float[] reference0 = Shift(reference, k, where[0], where[1]);
            var ones = new float[plane];
            for (int i = 0; i < plane; i++) ones[i] = 1f;
            float[] mask = Shift(ones, 1, where[0], where[1]);
            float[] channels = EditChannels(features);
            var squares = new float[k * plane];
            var products = new float[k * plane];
            for (int i = 0; i < k * plane; i++)
            {
                float diff = channels[i] - reference0[i];
                float masked = diff * (mask[i % plane] > 0 ? 1f : 0f);
                squares[i] = p[i] * p[i];
                products[i] = masked * p[i];
            }
            float denom = PairwiseSum32(squares, 0, squares.Length);
            if (!(denom > 0)) return 0.0;
            float value = PairwiseSum32(products, 0, products.Length) / denom;
            if (value < 0f) value = 0f;
            if (value > 1f) value = 1f;
            return value;
        }

        /// <summary>Where this character's "off" frame sits: 0 without a rest reading, else
        /// the reading less its margin, in [floor, 0].</summary>
        public double RestState(float[] features)
        {
            if (!hasRest) return 0.0;
            int n = restCells.Length / 2, plane = H * W;
            var x = new double[Shape[0] * n];
            for (int c = 0; c < Shape[0]; c++)
                for (int i = 0; i < n; i++)
                {
                    double v = features[c * plane + restCells[2 * i] * W + restCells[2 * i + 1]];
                    x[c * n + i] = v * restWeights[c * n + i];
                }
            double need = Drivers.PairwiseSum(x, 0, x.Length) + restBias;
            need = need - restMargin;
            return Math.Min(Math.Max(need, restFloor), 0.0);
        }

        /// <summary>The full C x H x W additive edit of one frame: amount x gain x the
        /// (shifted) pattern in the edit channels; all zero for amount 0.</summary>
        public float[] Delta(double amount, int[] where)
        {
            int plane = H * W;
            var output = new float[Shape[0] * plane];
            if (amount == 0.0) return output;
            float scale = (float)(amount * Gain);
            float[] p = Shift(pattern, Channels.Length, where[0], where[1]);
            for (int i = 0; i < Channels.Length; i++)
                for (int q = 0; q < plane; q++) output[Channels[i] * plane + q] = scale * p[i * plane + q];
            return output;
        }

        /// <summary>The deltas that take one character (its C x H x W feature map) through
        /// <paramref name="curve"/> (0 = its off frame, 1 = on), scaled by strength.</summary>
        public List<float[]> FrameDeltas(float[] features, float[] curve, double strength, out int[] where, out double start, out double rest)
        {
            where = Locate(features);
            start = State(features, where);
            rest = RestState(features);
            var deltas = new List<float[]>();
            foreach (float t in curve)
            {
                double amount = 0.0;
                if (strength != 0.0)
                {
                    double span = 1.0 - rest;
                    double moved = t * span;
                    double target = rest + moved;
                    amount = strength * (target - start);
                }
                deltas.Add(Delta(amount, where));
            }
            return deltas;
        }
    }
}
