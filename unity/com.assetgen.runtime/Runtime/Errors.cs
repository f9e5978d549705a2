// The runtime's errors, with the same messages as the Python API's (assetgen/errors.py), and
// the few Python text conventions those messages use (repr of a string or a float).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>A model file is missing, corrupted, or does not match its manifest (Python:
    /// assetgen.ModelError). The message names the file and, for manifest problems, the
    /// field.</summary>
    public class ModelException : Exception
    {
        public ModelException(string message) : base(message) { }
        public ModelException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>An option is unknown, mistyped or out of range (Python:
    /// assetgen.InvalidOptionsError); <see cref="Parameter"/> names the option.</summary>
    public class InvalidOptionsException : ArgumentException
    {
        public string Parameter { get; }
        public object Value { get; }

        public InvalidOptionsException(string message, string parameter, object value)
            : base(message)
        {
            Parameter = parameter;
            Value = value;
        }
    }

    /// <summary>ONNX Runtime reported an error (the native message is kept), or its native
    /// library could not be loaded (<see cref="LibraryMissing"/>).</summary>
    public class OnnxRuntimeException : Exception
    {
        public bool LibraryMissing { get; }

        public OnnxRuntimeException(string message, bool libraryMissing = false) : base(message)
        {
            LibraryMissing = libraryMissing;
        }
    }

    /// <summary>The engine's request checks (Python: assetgen.generator.check_seed and the
    /// frame count check of Engine.animate), with the same messages.</summary>
    public static class RequestChecks
    {
        public const long MaxSeed = long.MaxValue;

        /// <summary>A seed is an integer from 0 to 2^63 - 1 (each seed of a batch is checked as
        /// a request of count 1).</summary>
        public static void Seed(long seed)
        {
            if (seed < 0)
                throw new InvalidOptionsException("seed must be an integer from 0 to " + MaxSeed.ToString(CultureInfo.InvariantCulture) + " for count=1; got " + seed.ToString(CultureInfo.InvariantCulture), "seed", seed);
        }

        public static void Frames(int frames, int low, int high)
        {
            if (frames < low || frames > high)
                throw new InvalidOptionsException("frames must be an integer from " + low + " to " + high + "; got " + frames, "frames", frames);
        }
    }

    /// <summary>Python's text forms, for messages that must read the same in both runtimes.</summary>
    public static class PyText
    {
        /// <summary>The text's code points, each as a string (Python iterates a str so).</summary>
        public static List<string> CodePoints(string text)
        {
            var output = new List<string>(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    output.Add(text.Substring(i, 2));
                    i++;
                }
                else output.Add(text[i].ToString());
            }
            return output;
        }

        /// <summary>repr() of a str: single quotes unless the text holds a ' and no ".</summary>
        public static string Repr(string text)
        {
            bool single = text.IndexOf('\'') >= 0 && text.IndexOf('"') < 0;
            char quote = single ? '"' : '\'';
            var sb = new StringBuilder();
            sb.Append(quote);
            foreach (char c in text)
            {
                if (c == quote || c == '\\') { sb.Append('\\').Append(c); }
                else if (c == '\n') sb.Append("\\n");
                else if (c == '\r') sb.Append("\\r");
                else if (c == '\t') sb.Append("\\t");
                else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            sb.Append(quote);
            return sb.ToString();
        }

        /// <summary>repr() of a float: the shortest text that reads back as the same double,
        /// with ".0" on whole numbers and Python's exponent form (1e-05, 1e+16).</summary>
        public static string Repr(double x)
        {
            if (double.IsNaN(x)) return "nan";
            if (double.IsPositiveInfinity(x)) return "inf";
            if (double.IsNegativeInfinity(x)) return "-inf";
            string r = Shortest(x);
            // r is digits with optional '.', and optional E exponent
            string mantissa = r;
            int exp = 0;
            int e = r.IndexOfAny(new[] { 'E', 'e' });
            if (e >= 0)
            {
                mantissa = r.Substring(0, e);
                exp = int.Parse(r.Substring(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            }
            bool negative = mantissa.StartsWith("-", StringComparison.Ordinal);
            if (negative) mantissa = mantissa.Substring(1);
            int dot = mantissa.IndexOf('.');
            string digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
            int point = (dot >= 0 ? dot : mantissa.Length) + exp; // decimal point position in digits
            int lead = 0;
            while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; point--; }
            digits = digits.Substring(lead).TrimEnd('0');
            if (digits.Length == 0) { digits = "0"; point = 1; }
            int decimalExp = point - 1; // x = d.ddd * 10^decimalExp
            string body;
            if (digits == "0") body = "0.0";
            else if (decimalExp < -4 || decimalExp >= 16)
            {
                string m = digits.Length > 1 ? digits[0] + "." + digits.Substring(1) : digits;
                body = m + "e" + (decimalExp < 0 ? "-" : "+") + Math.Abs(decimalExp).ToString("00", CultureInfo.InvariantCulture);
            }
            else if (point <= 0) body = "0." + new string('0', -point) + digits;
            else if (point >= digits.Length) body = digits + new string('0', point - digits.Length) + ".0";
            else body = digits.Substring(0, point) + "." + digits.Substring(point);
            return (negative ? "-" : "") + body;
        }

        static string Shortest(double x)
        {
            for (int precision = 1; precision <= 17; precision++)
            {
                string s = x.ToString("E" + (precision - 1), CultureInfo.InvariantCulture);
                double back;
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out back) && back == x)
                    return s;
            }
            return x.ToString("E16", CultureInfo.InvariantCulture);
        }

        /// <summary>Python's f"{x:g}" for the option bounds in messages.</summary>
        public static string G(double x)
        {
            if (x == Math.Floor(x) && Math.Abs(x) < 1e15) return ((long)x).ToString(CultureInfo.InvariantCulture);
            return x.ToString("G6", CultureInfo.InvariantCulture);
        }

        /// <summary>assetgen.errors.show_value: repr cut to 60 characters (code points, as
        /// Python counts them).</summary>
        public static string Show(string repr, int limit = 60)
        {
            if (repr.Length <= limit) return repr;
            int units = 0, points = 0;
            while (units < repr.Length && points < limit)
            {
                units += char.IsHighSurrogate(repr[units]) && units + 1 < repr.Length && char.IsLowSurrogate(repr[units + 1]) ? 2 : 1;
                points++;
            }
            if (units >= repr.Length) return repr;
            units = 0;
            for (int i = 0; i < limit - 3; i++)
                units += char.IsHighSurrogate(repr[units]) && units + 1 < repr.Length && char.IsLowSurrogate(repr[units + 1]) ? 2 : 1;
            return repr.Substring(0, units) + "...";
        }

        /// <summary>repr() of a dict of str -> float, in the given order.</summary>
        public static string Repr(IEnumerable<KeyValuePair<string, double>> items)
        {
            var parts = new List<string>();
            foreach (var kv in items) parts.Add(Repr(kv.Key) + ": " + Repr(kv.Value));
            return "{" + string.Join(", ", parts) + "}";
        }
    }
}
