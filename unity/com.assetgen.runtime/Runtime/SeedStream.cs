// Portable seed maths: the C# twin of assetgen/seeds.py. Every value a seed decides (labels,
// latents, sampling draws) comes out bit for bit the same as in Python; both are checked
// against tests/fixtures/seed_vectors.json. The rules are in docs/seeds.md.
//
// Only 64-bit integer arithmetic and IEEE-754 double +, *, / and sqrt are used, each in its
// own statement, so no compiler can fuse a multiply and an add; log, sin and cos are fixed
// polynomial evaluations rather than the platform's maths library.
using System;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>The draws of one seed for one purpose, handed out in order.</summary>
    public sealed class SeedStream
    {
        public const ulong Golden = 0x9E3779B97F4A7C15UL;
        const ulong M1 = 0xBF58476D1CE4E5B9UL;
        const ulong M2 = 0x94D049BB133111EBUL;
        const ulong FnvOffset = 0xCBF29CE484222325UL;
        const ulong FnvPrime = 0x100000001B3UL;
        /// <summary>2^-53, the spacing of the uniform doubles.</summary>
        public const double Ulp53 = 1.0 / 9007199254740992.0;
        const double Ln2 = 0.6931471805599453;
        const double HalfPi = 1.5707963267948966;
        const double SqrtHalf = 0.7071067811865476;

        static readonly double[] LogTerms = MakeLogTerms();
        static readonly double[] SinTerms = MakeTaylor(1, 9);
        static readonly double[] CosTerms = MakeTaylor(0, 10);

        /// <summary>The stream's 64-bit key.</summary>
        public ulong Key { get; }
        /// <summary>How many draws the stream has handed out.</summary>
        public ulong Position { get; private set; }

        public SeedStream(long seed, string purpose = "", long index = 0)
        {
            Key = StreamKey(seed, purpose, index);
        }

        public static ulong Mix64(ulong z)
        {
            z = (z ^ (z >> 30)) * M1;
            z = (z ^ (z >> 27)) * M2;
            return z ^ (z >> 31);
        }

        public static ulong Fnv1a64(string text)
        {
            ulong h = FnvOffset;
            foreach (byte b in Encoding.UTF8.GetBytes(text ?? ""))
            {
                h = (h ^ b) * FnvPrime;
            }
            return h;
        }

        public static ulong StreamKey(long seed, string purpose, long index)
        {
            ulong k = Mix64(Mix64(unchecked((ulong)seed)) ^ Fnv1a64(purpose));
            return Mix64(unchecked(k + (ulong)index * Golden));
        }

        /// <summary>The next raw 64-bit draw.</summary>
        public ulong NextBits()
        {
            Position++;
            return Mix64(unchecked(Key + Position * Golden));
        }

        /// <summary>A uniform double in [0, 1): (x >> 11) * 2^-53.</summary>
        public double NextDouble()
        {
            return ToUnit(NextBits());
        }

        public static double ToUnit(ulong x)
        {
            return (double)(x >> 11) * Ulp53;
        }

        /// <summary>low + (high - low) * u.</summary>
        public double Uniform(double low, double high)
        {
            double u = NextDouble();
            double span = high - low;
            double scaled = span * u;
            return low + scaled;
        }

        /// <summary>An integer in [0, n): ((x >> 32) * n) >> 32.</summary>
        public int Below(int n)
        {
            if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "n must be positive");
            return (int)(((NextBits() >> 32) * (ulong)n) >> 32);
        }

        /// <summary><paramref name="count"/> standard normals (Box-Muller, 2 draws a pair;
        /// an odd count drops the last sine).</summary>
        public double[] StandardNormal(int count)
        {
            var output = new double[count];
            for (int i = 0; i < count; i += 2)
            {
                ulong a = NextBits();
                ulong b = NextBits();
                double u1 = (double)((a >> 11) + 1) * Ulp53;
                double u2 = (double)(b >> 11) * Ulp53;
                double r = Math.Sqrt(-2.0 * Log(u1));
                SinCosTurns(u2, out double sin, out double cos);
                output[i] = r * cos;
                if (i + 1 < count) output[i + 1] = r * sin;
            }
            return output;
        }

        /// <summary>One categorical pick by <paramref name="weights"/>: the number of running
        /// sums &lt;= u * total, at most weights.Length - 1.</summary>
        public int ChoiceIndex(double[] weights)
        {
            return Pick(RunningSum(weights), NextDouble());
        }

        public static double[] RunningSum(double[] weights)
        {
            var cdf = new double[weights.Length];
            double total = 0.0;
            for (int i = 0; i < weights.Length; i++)
            {
                total = total + weights[i];
                cdf[i] = total;
            }
            return cdf;
        }

        public static int Pick(double[] cdf, double u)
        {
            double t = u * cdf[cdf.Length - 1];
            int count = 0;
            foreach (double c in cdf)
            {
                if (c <= t) count++;
            }
            return Math.Min(count, cdf.Length - 1);
        }

        /// <summary>Natural log of a positive normal double, by fixed IEEE operations.</summary>
        public static double Log(double x)
        {
            long bits = BitConverter.DoubleToInt64Bits(x);
            int e = (int)((bits >> 52) & 0x7FF) - 1022;
            double m = BitConverter.Int64BitsToDouble((bits & unchecked((long)0x800FFFFFFFFFFFFFUL)) | (1022L << 52));
            if (m < SqrtHalf)
            {
                m = m * 2.0;
                e = e - 1;
            }
            double num = m - 1.0;
            double den = m + 1.0;
            double t = num / den;
            double t2 = t * t;
            double s = Horner(t2, LogTerms);
            double hi = (double)e * Ln2;
            double lo = t * s;
            return hi + lo;
        }

        /// <summary>sin and cos of 2 pi u for u in [0, 1).</summary>
        public static void SinCosTurns(double u, out double sin, out double cos)
        {
            double u4 = u * 4.0;
            double q = Math.Floor(u4);
            double f = u4 - q;
            bool flip = f > 0.5;
            double g = flip ? 1.0 - f : f;
            double y = g * HalfPi;
            double y2 = y * y;
            double sp = Horner(y2, SinTerms);
            double s = y * sp;
            double c = Horner(y2, CosTerms);
            double sx = flip ? c : s;
            double cx = flip ? s : c;
            switch (((int)q) & 3)
            {
                case 0: sin = sx; cos = cx; break;
                case 1: sin = cx; cos = -sx; break;
                case 2: sin = -sx; cos = -cx; break;
                default: sin = -cx; cos = sx; break;
            }
        }

        static double Horner(double x2, double[] terms)
        {
            double s = terms[terms.Length - 1];
            for (int i = terms.Length - 2; i >= 0; i--)
            {
                double p = s * x2;
                s = p + terms[i];
            }
            return s;
        }

        static double[] MakeLogTerms()
        {
            var t = new double[12];
            for (int k = 0; k < t.Length; k++) t[k] = 2.0 / (2 * k + 1);
            return t;
        }

        // (-1)^k / (2k + offset)!, k = 0 .. count - 1 (factorials up to 18! are exact doubles)
        static double[] MakeTaylor(int offset, int count)
        {
            var t = new double[count];
            for (int k = 0; k < count; k++)
            {
                double fact = 1.0;
                for (int j = 2; j <= 2 * k + offset; j++) fact = fact * j;
                t[k] = (k % 2 == 0 ? 1.0 : -1.0) / fact;
            }
            return t;
        }
    }
}
