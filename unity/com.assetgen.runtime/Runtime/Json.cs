// A small JSON reader for model manifests, so the runtime needs no JSON library (Unity has
// none it can count on, and System.Json is Mono-only). Objects become
// Dictionary<string, object> (keys in file order), arrays List<object>, numbers long when
// written without a fraction or exponent (and in range) else double, true/false bool, null
// null. Numbers are parsed with the invariant culture.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>Minimal JSON parser (RFC 8259) for manifests and test requests.</summary>
    public static class Json
    {
        /// <summary>Parse one JSON document; a <see cref="FormatException"/> names the offset of
        /// the first problem.</summary>
        public static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            int at = 0;
            SkipSpace(text, ref at);
            object value = ReadValue(text, ref at, 0);
            SkipSpace(text, ref at);
            if (at != text.Length) throw Bad(text, at, "text after the JSON value");
            return value;
        }

        const int MaxDepth = 256;

        static FormatException Bad(string text, int at, string why)
        {
            return new FormatException("JSON: " + why + " at character " + at);
        }

        static void SkipSpace(string s, ref int at)
        {
            while (at < s.Length && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) at++;
        }

        static object ReadValue(string s, ref int at, int depth)
        {
            if (depth > MaxDepth) throw Bad(s, at, "nesting too deep");
            if (at >= s.Length) throw Bad(s, at, "unexpected end");
            char c = s[at];
            if (c == '{') return ReadObject(s, ref at, depth);
            if (c == '[') return ReadArray(s, ref at, depth);
            if (c == '"') return ReadString(s, ref at);
            if (c == 't') return Word(s, ref at, "true", true);
            if (c == 'f') return Word(s, ref at, "false", false);
            if (c == 'n') return Word(s, ref at, "null", null);
            if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber(s, ref at);
            throw Bad(s, at, "unexpected character '" + c + "'");
        }

        static object Word(string s, ref int at, string word, object value)
        {
            if (string.CompareOrdinal(s, at, word, 0, word.Length) != 0) throw Bad(s, at, "bad literal");
            at += word.Length;
            return value;
        }

        static Dictionary<string, object> ReadObject(string s, ref int at, int depth)
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            at++;
            SkipSpace(s, ref at);
            if (at < s.Length && s[at] == '}') { at++; return result; }
            while (true)
            {
                SkipSpace(s, ref at);
                if (at >= s.Length || s[at] != '"') throw Bad(s, at, "expected a key");
                string key = ReadString(s, ref at);
                SkipSpace(s, ref at);
                if (at >= s.Length || s[at] != ':') throw Bad(s, at, "expected ':'");
                at++;
                SkipSpace(s, ref at);
                result[key] = ReadValue(s, ref at, depth + 1);
                SkipSpace(s, ref at);
                if (at < s.Length && s[at] == ',') { at++; continue; }
                if (at < s.Length && s[at] == '}') { at++; return result; }
                throw Bad(s, at, "expected ',' or '}'");
            }
        }

        static List<object> ReadArray(string s, ref int at, int depth)
        {
            var result = new List<object>();
            at++;
            SkipSpace(s, ref at);
            if (at < s.Length && s[at] == ']') { at++; return result; }
            while (true)
            {
                SkipSpace(s, ref at);
                result.Add(ReadValue(s, ref at, depth + 1));
                SkipSpace(s, ref at);
                if (at < s.Length && s[at] == ',') { at++; continue; }
                if (at < s.Length && s[at] == ']') { at++; return result; }
                throw Bad(s, at, "expected ',' or ']'");
            }
        }

        static string ReadString(string s, ref int at)
        {
            var sb = new StringBuilder();
            at++;
            while (true)
            {
                if (at >= s.Length) throw Bad(s, at, "unterminated string");
                char c = s[at++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Bad(s, at - 1, "control character in a string");
                if (c != '\\') { sb.Append(c); continue; }
                if (at >= s.Length) throw Bad(s, at, "unterminated escape");
                char e = s[at++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (at + 4 > s.Length) throw Bad(s, at, "short \\u escape");
                        int code;
                        if (!int.TryParse(s.Substring(at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                            throw Bad(s, at, "bad \\u escape");
                        sb.Append((char)code);
                        at += 4;
                        break;
                    default: throw Bad(s, at - 1, "bad escape");
                }
            }
        }

        static object ReadNumber(string s, ref int at)
        {
            int start = at;
            bool integral = true;
            if (s[at] == '-') at++;
            while (at < s.Length)
            {
                char c = s[at];
                if (c >= '0' && c <= '9') { at++; continue; }
                if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integral = false; at++; continue; }
                break;
            }
            string text = s.Substring(start, at - start);
            long asLong;
            if (integral && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out asLong))
                return asLong;
            double asDouble;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out asDouble))
                throw Bad(s, start, "bad number '" + text + "'");
            return asDouble;
        }
    }
}
