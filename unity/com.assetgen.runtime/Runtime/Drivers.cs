// The generic talk loop and the blink curve of the portraits animations (Python:
// plugins/assetgen_portraits/drivers.py, talk_cycle and blink_curve), in float64 with numpy's
// order of operations: sums of arrays use numpy's pairwise summation (PairwiseSum), a mean
// over a frame's 8 subsamples is that sum divided by 8, and the seeds' draws come from
// SeedStream (streams "portraits.talk" and "portraits.blink").
using System;

namespace AssetGen.Runtime
{
    public static class Drivers
    {
        public const double FpsMin = 1.0, FpsMax = 60.0;
        public const int FramesMin = 1, FramesMax = 240;
        const int Subsamples = 8;
        const double Rise = 0.3, HoldEnd = 0.6;
        const double TalkRateLow = 4.0, TalkRateHigh = 6.0;
        const double BlinkClose = 0.08, BlinkHold = 0.04, BlinkOpen = 0.12;

        /// <summary>numpy's pairwise summation of a float64 array (np.sum, np.add.reduce).</summary>
        public static double PairwiseSum(double[] a, int start, int n)
        {
            if (n < 8)
            {
                double res = -0.0;
                for (int i = 0; i < n; i++) res = res + a[start + i];
                return res;
            }
            if (n <= 128)
            {
                var r = new double[8];
                for (int j = 0; j < 8; j++) r[j] = a[start + j];
                int i = 8;
                for (; i < n - (n % 8); i += 8)
                    for (int j = 0; j < 8; j++) r[j] = r[j] + a[start + i + j];
                double s01 = r[0] + r[1], s23 = r[2] + r[3], s45 = r[4] + r[5], s67 = r[6] + r[7];
                double left = s01 + s23, right = s45 + s67;
                double res = left + right;
                for (; i < n; i++) res = res + a[start + i];
                return res;
            }
            int n2 = n / 2;
            n2 -= n2 % 8;
            double lo = PairwiseSum(a, start, n2);
            double hi = PairwiseSum(a, start + n2, n - n2);
            return lo + hi;
        }

        static double Smoothstep(double x)
        {
            if (x < 0.0) x = 0.0;
            if (x > 1.0) x = 1.0;
            double xx = x * x;
            double twice = 2.0 * x;
            double rest = 3.0 - twice;
            return xx * rest;
        }

        static double PulseShape(double u)
        {
            double rise = Smoothstep(u / Rise);
            double oneMinus = 1.0 - u;
            double span = 1.0 - HoldEnd;
            double fall = Smoothstep(oneMinus / span);
            return Math.Min(rise, fall);
        }

        static double[] Uniforms(SeedStream rng, double low, double high, int count)
        {
            var v = new double[count];
            for (int i = 0; i < count; i++) v[i] = rng.Uniform(low, high);
            return v;
        }

        static double[] Randoms(SeedStream rng, int count)
        {
            var v = new double[count];
            for (int i = 0; i < count; i++) v[i] = rng.NextDouble();
            return v;
        }

        // drivers._finish: finite, clipped to [0, 1], below 1e-6 -> 0, float32
        static float[] Finish(double[] curve)
        {
            var output = new float[curve.Length];
            for (int i = 0; i < curve.Length; i++)
            {
                double v = curve[i];
                if (double.IsNaN(v)) v = 0.0;
                else if (double.IsPositiveInfinity(v)) v = 1.0;
                else if (double.IsNegativeInfinity(v)) v = 0.0;
                if (v < 0.0) v = 0.0;
                if (v > 1.0) v = 1.0;
                if (v < 1e-6) v = 0.0;
                output[i] = (float)v;
            }
            return output;
        }

        /// <summary>A generic talking loop of <paramref name="frames"/> frames (mouth
        /// openness per frame), deterministic from the seed.</summary>
        public static float[] TalkCycle(int frames, double fps, long seed)
        {
            var rng = new SeedStream(seed, "portraits.talk");
            double duration = frames / fps;
            double edge = 1.0 / fps;
            double twoEdges = 2.0 * edge;
            double available = duration - twoEdges;
            double rate = rng.Uniform(TalkRateLow, TalkRateHigh);
            int count = available > 0 ? Math.Max(1, (int)Math.Round(available * rate, MidpointRounding.ToEven)) : 0;
            if (count == 0) return new float[frames];
            double[] lengths = Uniforms(rng, 0.8, 1.25, count);
            double[] kind = Randoms(rng, count - 1);
            double[] shortGaps = Uniforms(rng, 0.15, 0.4, count - 1);
            double[] pauses = Uniforms(rng, 0.8, 1.5, count - 1);
            var gaps = new double[count - 1];
            for (int i = 0; i < gaps.Length; i++) gaps[i] = kind[i] < 0.6 ? 0.0 : kind[i] < 0.92 ? shortGaps[i] : pauses[i];
            double[] openDraw = Randoms(rng, count);
            double[] openPeaks = Uniforms(rng, 0.75, 1.0, count);
            double[] closePeaks = Uniforms(rng, 0.35, 0.7, count);
            var peaks = new double[count];
            for (int i = 0; i < count; i++) peaks[i] = openDraw[i] < 0.6 ? openPeaks[i] : closePeaks[i];
            double total = PairwiseSum(lengths, 0, count) + PairwiseSum(gaps, 0, gaps.Length);
            double scale = available / total;
            var durations = new double[count];
            for (int i = 0; i < count; i++) durations[i] = lengths[i] * scale;
            var starts = new double[count];
            double running = 0.0;
            starts[0] = edge + 0.0;
            for (int i = 0; i < count - 1; i++)
            {
                double gap = gaps[i] * scale;
                double step = durations[i] + gap;
                running = running + step;
                starts[i + 1] = edge + running;
            }
            double[] curve = RenderPulses(starts, durations, peaks, frames, fps);
            curve[0] = 0.0;
            curve[frames - 1] = 0.0;
            return Finish(curve);
        }

        static double[] RenderPulses(double[] starts, double[] durations, double[] peaks, int frames, double fps)
        {
            var result = new double[frames];
            var values = new double[Subsamples];
            for (int f = 0; f < frames; f++)
            {
                for (int k = 0; k < Subsamples; k++)
                {
                    double offset = (k + 0.5) / Subsamples;
                    double t = (f + offset) / fps;
                    int idx = -1;
                    while (idx + 1 < starts.Length && starts[idx + 1] <= t) idx++;
                    double value = 0.0;
                    if (idx >= 0)
                    {
                        double u = (t - starts[idx]) / durations[idx];
                        if (u >= 0.0 && u < 1.0) value = peaks[idx] * PulseShape(u);
                    }
                    values[k] = value;
                }
                result[f] = PairwiseSum(values, 0, Subsamples) / Subsamples;
            }
            return result;
        }

        /// <summary>Eyelid closure per frame (0 open, 1 closed): one blink at a moment drawn
        /// from the seed, between the first and the last frame.</summary>
        public static float[] BlinkCurve(int frames, double fps, long seed)
        {
            var rng = new SeedStream(seed, "portraits.blink");
            double position = rng.NextDouble();
            if (frames < 3) return new float[frames];
            double edge = 1.0 / fps;
            double twoEdges = 2.0 * edge;
            double available = frames / fps - twoEdges;
            var phases = new[] { BlinkClose, BlinkHold, BlinkOpen };
            double total = PairwiseSum(phases, 0, 3);
            if (total > available)
            {
                double ratio = available / total;
                for (int i = 0; i < 3; i++) phases[i] = phases[i] * ratio;
                total = available;
            }
            double room = available - total;
            double start = edge + position * room;
            double closeEnd = start + phases[0];
            double holdEnd = closeEnd + phases[1];
            double end = holdEnd + phases[2];
            double sum = closeEnd + holdEnd;
            double plateau = 0.5 * sum;
            double step = 1.0 / fps;
            var curve = new double[frames];
            for (int f = 0; f < frames; f++)
            {
                double lo = f / fps;
                double hi = lo + step;
                double t = Math.Min(Math.Max(plateau, lo), hi);
                double closing = Smoothstep((t - start) / phases[0]);
                double opening = Smoothstep((end - t) / phases[2]);
                double v = t < closeEnd ? closing : t <= holdEnd ? 1.0 : opening;
                if (hi <= start || lo >= end) v = 0.0;
                curve[f] = v;
            }
            return Finish(curve);
        }
    }
}
