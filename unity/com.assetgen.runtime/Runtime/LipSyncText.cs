// Lip sync from a line of text (Python: plugins/assetgen_portraits/lipsync/text.py text_track,
// shapes.py phone_table, base_phone, phone_segments and build_cues, phonemes.csv): words ->
// ARPAbet phones (the CMU Pronouncing Dictionary when one is given, else our own spelling
// rules) -> phones timed from a speaking rate on the 10 ms grid -> mouth-shape cues. Text is
// handled in code points, as Python does; the Unicode rules (NFKC / NFKD, letters, digits,
// white space, lower case) are .NET's, which agree with Python's on the Latin letters,
// digits and punctuation the parity tests cover.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>A spoken word or a phone and when it is said, in ticks (hundredths of a second).</summary>
    public struct TimedName
    {
        public string Name;
        public int Start;
        public int End;
    }

    /// <summary>One row of the phone -> shape table (Python: phonemes.csv).</summary>
    public sealed class PhoneInfo
    {
        public string Phone { get; }
        /// <summary>vowel, diphthong, consonant or silence.</summary>
        public string Kind { get; }
        /// <summary>A shape, "P>Q" (a glide) or "*" (the shape of the next vowel).</summary>
        public string Shape { get; }
        /// <summary>Base duration at the reference speaking rate, in milliseconds.</summary>
        public int Ms { get; }
        public bool Syllabic => Kind == "vowel" || Kind == "diphthong";

        internal PhoneInfo(string phone, string kind, string shape, int ms)
        {
            Phone = phone; Kind = kind; Shape = shape; Ms = ms;
        }
    }

    /// <summary>Word -> pronunciation (ARPAbet phones separated by spaces), read from a file in
    /// the CMU Pronouncing Dictionary's format ("word PH ON ES" lines; "word(2)" variants are
    /// skipped, the first pronunciation of a word is kept). Python reads the copy inside the
    /// pocketsphinx wheel (model/en-us/cmudict-en-us.dict); give the runtime the same file.</summary>
    public sealed class PronouncingDictionary
    {
        readonly Dictionary<string, string> entries = new Dictionary<string, string>(StringComparer.Ordinal);

        public int Count => entries.Count;

        public static PronouncingDictionary Load(string path)
        {
            return FromBytes(File.ReadAllBytes(path));
        }

        /// <summary>From the file's bytes (UTF-8; undecodable bytes become U+FFFD).</summary>
        public static PronouncingDictionary FromBytes(byte[] bytes)
        {
            var dictionary = new PronouncingDictionary();
            string text = new UTF8Encoding(false, false).GetString(bytes);
            int start = 0;
            while (start < text.Length)
            {
                int end = start;
                // Python's text-mode lines end at \n, \r or \r\n (universal newlines)
                while (end < text.Length && text[end] != '\n' && text[end] != '\r') end++;
                dictionary.AddLine(text.Substring(start, end - start));
                if (end < text.Length && text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n') end++;
                start = end + 1;
            }
            return dictionary;
        }

        void AddLine(string line)
        {
            line = LipSyncText.PyStrip(line);
            int space = line.IndexOf(' ');
            string word = space < 0 ? line : line.Substring(0, space);
            string phones = space < 0 ? "" : LipSyncText.PyStrip(line.Substring(space + 1));
            if (word.Length > 0 && phones.Length > 0 && word.IndexOf('(') < 0 && !entries.ContainsKey(word))
                entries[word] = phones;
        }

        public bool TryGet(string word, out string phones)
        {
            return entries.TryGetValue(word, out phones);
        }

        public bool Contains(string word) => entries.ContainsKey(word);
    }

    public static class LipSyncText
    {
        public const double DefaultRate = 4.5, RateMin = 1.0, RateMax = 12.0;
        public const int MaxTextChars = 2000;
        const double LeadIn = 0.10, Tail = 0.20, ClausePause = 0.20, SentencePause = 0.40;
        const double StressScale = 1.4, FunctionWordScale = 0.75;
        const int MinPhoneTicks = 2;
        const double GlideSplit = 0.6;

        static readonly Dictionary<string, PhoneInfo> table = BuildTable();

        /// <summary>The phone -> shape table (Python: phonemes.csv).</summary>
        public static IReadOnlyDictionary<string, PhoneInfo> PhoneTable => table;

        static Dictionary<string, PhoneInfo> BuildTable()
        {
            const string rows =
                "AA,vowel,D,120 AE,vowel,C,120 AH,vowel,C,80 AO,vowel,E,120 AW,diphthong,D>F,150 " +
                "AY,diphthong,D>B,150 EH,vowel,C,100 ER,vowel,E,110 EY,diphthong,C>B,140 IH,vowel,B,75 " +
                "IY,vowel,B,110 OW,vowel,F,130 OY,diphthong,E>B,150 UH,vowel,E,85 UW,vowel,F,110 " +
                "B,consonant,A,65 CH,consonant,B,90 D,consonant,B,55 DH,consonant,B,45 F,consonant,G,85 " +
                "G,consonant,B,65 HH,consonant,*,55 JH,consonant,B,80 K,consonant,B,75 L,consonant,H,65 " +
                "M,consonant,A,70 N,consonant,B,60 NG,consonant,B,70 P,consonant,A,80 R,consonant,E,60 " +
                "S,consonant,B,95 SH,consonant,B,95 T,consonant,B,65 TH,consonant,B,80 V,consonant,G,60 " +
                "W,consonant,F,65 Y,consonant,B,55 Z,consonant,B,75 ZH,consonant,B,80 SIL,silence,X,0";
            var result = new Dictionary<string, PhoneInfo>(StringComparer.Ordinal);
            foreach (string row in rows.Split(' '))
            {
                string[] f = row.Split(',');
                result[f[0]] = new PhoneInfo(f[0], f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture));
            }
            return result;
        }

        static readonly HashSet<string> functionWords = new HashSet<string>((
            "a an the and or but if of to in on at by for from with as is am are was were be been " +
            "it its i me my we us our you your he him his she her they them their this that than then " +
            "so not no do does did have has had can could will would shall should may might must " +
            "there here what who whom which when where how just very too also into onto upon").Split(' '), StringComparer.Ordinal);

        // ---- Python's text predicates, on code points ----------------------------------------

        static UnicodeCategory Category(int cp) => CharUnicodeInfo.GetUnicodeCategory(char.ConvertFromUtf32(cp), 0);

        /// <summary>Python's str.isspace on one code point.</summary>
        internal static bool IsSpace(int cp)
        {
            if (cp >= 0x1c && cp <= 0x1f) return true;
            if (cp > 0xffff) return false;
            return char.IsWhiteSpace((char)cp);
        }

        /// <summary>re's \d: a decimal digit (Nd).</summary>
        static bool IsDigit(int cp) => Category(cp) == UnicodeCategory.DecimalDigitNumber;

        /// <summary>re's [^\W\d_]: alphanumeric (letters and numbers) but no decimal digit and no _.</summary>
        static bool IsWordChar(int cp)
        {
            UnicodeCategory category = Category(cp);
            return IsLetter(category) || category == UnicodeCategory.LetterNumber || category == UnicodeCategory.OtherNumber;
        }

        internal static string PyStrip(string s)
        {
            int[] cps = CodePoints(s);
            int a = 0, b = cps.Length;
            while (a < b && IsSpace(cps[a])) a++;
            while (b > a && IsSpace(cps[b - 1])) b--;
            return FromCodePoints(cps, a, b);
        }

        internal static int[] CodePoints(string s)
        {
            var list = new List<int>(s.Length);
            for (int i = 0; i < s.Length; i++)
            {
                if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    list.Add(char.ConvertToUtf32(s[i], s[i + 1]));
                    i++;
                }
                else list.Add(s[i]);
            }
            return list.ToArray();
        }

        static string FromCodePoints(int[] cps, int start, int end)
        {
            var sb = new StringBuilder();
            for (int i = start; i < end; i++)
            {
                int cp = cps[i];
                if (cp >= 0xd800 && cp <= 0xdfff) sb.Append((char)cp); // a lone surrogate stays
                else sb.Append(char.ConvertFromUtf32(cp));
            }
            return sb.ToString();
        }

        /// <summary>Python's len(): code points.</summary>
        public static int Length(string s) => CodePoints(s).Length;

        static string Lower(string s)
        {
            // str.lower: U+0130 (I with dot above) becomes i + combining dot; the rest as .NET
            return s.ToLowerInvariant().Replace("\u0130", "i\u0307");
        }

        static bool IsAscii(int cp) => cp < 128;

        /// <summary>str.isalpha of one code point: a letter (Lu, Ll, Lt, Lm, Lo).</summary>
        static bool IsAlpha(int cp) => IsLetter(Category(cp));

        static bool IsLetter(UnicodeCategory category)
        {
            switch (category)
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                    return true;
                default:
                    return false;
            }
        }

        // ---- numbers ---------------------------------------------------------------------------

        static readonly string[] ones = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " +
            "fifteen sixteen seventeen eighteen nineteen").Split(' ');
        static readonly string[] tens = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".Split(' ');
        static readonly Dictionary<string, string> ordinalWords = new Dictionary<string, string>
        {
            { "one", "first" }, { "two", "second" }, { "three", "third" }, { "five", "fifth" },
            { "eight", "eighth" }, { "nine", "ninth" }, { "twelve", "twelfth" },
        };

        /// <summary>An integer below 10^12 in English words.</summary>
        public static List<string> NumberWords(long number)
        {
            if (number < 20) return new List<string> { ones[number] };
            if (number < 100)
            {
                var w = new List<string> { tens[number / 10] };
                if (number % 10 != 0) w.Add(ones[number % 10]);
                return w;
            }
            if (number < 1000)
            {
                var w = new List<string> { ones[number / 100], "hundred" };
                if (number % 100 != 0) w.AddRange(NumberWords(number % 100));
                return w;
            }
            long[] scales = { 1000000000L, 1000000L, 1000L };
            string[] names = { "billion", "million", "thousand" };
            for (int i = 0; i < scales.Length; i++)
            {
                if (number >= scales[i])
                {
                    var w = NumberWords(number / scales[i]);
                    w.Add(names[i]);
                    if (number % scales[i] != 0) w.AddRange(NumberWords(number % scales[i]));
                    return w;
                }
            }
            throw new InvalidOperationException("unreachable");
        }

        static int DigitValue(int cp) => (int)CharUnicodeInfo.GetDecimalDigitValue(char.ConvertFromUtf32(cp), 0);

        /// <summary>A numeric token as words (Python: spoken_number).</summary>
        static List<string> SpokenNumber(int[] token)
        {
            int n = token.Length;
            string suffix = "";
            if (n >= 2)
            {
                string last = Lower(FromCodePoints(token, n - 2, n));
                if (last == "st" || last == "nd" || last == "rd" || last == "th") suffix = last;
            }
            var digits = new List<int>();
            for (int i = 0; i < n - suffix.Length; i++) digits.Add(token[i]);
            var fraction = new List<int>();
            if (IsGroupedThousands(digits))
                digits.RemoveAll(c => c == ',');
            else if (digits.Contains('.') || digits.Contains(','))
            {
                int cut = digits.FindIndex(c => c == '.' || c == ',');
                foreach (int c in digits.Skip(cut + 1)) if (c != '.' && c != ',') fraction.Add(c);
                digits = digits.Take(cut).ToList();
            }
            List<string> words;
            if ((digits.Count > 1 && digits[0] == '0') || digits.Count > 12)
            {
                words = new List<string>();
                foreach (int d in digits) words.Add(ones[DigitValue(d)]);
            }
            else
            {
                long value = 0;
                foreach (int d in digits) value = value * 10 + DigitValue(d);
                words = NumberWords(value);
            }
            if (suffix.Length > 0 && fraction.Count == 0)
            {
                string lastWord = words[words.Count - 1];
                string ordinal;
                if (ordinalWords.TryGetValue(lastWord, out ordinal)) lastWord = ordinal;
                else if (lastWord.EndsWith("y", StringComparison.Ordinal)) lastWord = lastWord.Substring(0, lastWord.Length - 1) + "ieth";
                else lastWord += "th";
                words[words.Count - 1] = lastWord;
            }
            if (fraction.Count > 0)
            {
                words.Add("point");
                foreach (int d in fraction) words.Add(ones[DigitValue(d)]);
            }
            return words;
        }

        // re.fullmatch(r"\d{1,3}(,\d{3})+", digits)
        static bool IsGroupedThousands(List<int> s)
        {
            int i = 0;
            while (i < s.Count && i < 3 && IsDigit(s[i])) i++;
            if (i == 0 || (i < s.Count && IsDigit(s[i]))) return false;
            int groups = 0;
            while (i < s.Count)
            {
                if (s[i] != ',' || i + 4 > s.Count) return false;
                for (int k = 1; k <= 3; k++) if (!IsDigit(s[i + k])) return false;
                i += 4;
                groups++;
            }
            return groups > 0;
        }

        // ---- tokens ----------------------------------------------------------------------------

        /// <summary>A word ("word", its spoken lower-case spelling) or a pause (seconds).</summary>
        struct Token
        {
            public string Spoken; // null: a pause
            public double Pause;
        }

        const string MarkChars = ".!?\u2026,;:()\u2013\u2014";
        const string SentenceMarks = ".!?\u2026";
        static readonly Dictionary<int, string> symbolWords = new Dictionary<int, string>
        {
            { '&', "and" }, { '%', "percent" }, { '+', "plus" }, { '@', "at" }, { '=', "equals" },
            { '#', "number" }, { '$', "dollars" }, { 0x20ac, "euros" }, { 0xa3, "pounds" },
        };

        static bool IsSuffix(int[] s, int i)
        {
            if (i + 2 > s.Length) return false;
            char a = char.ToLowerInvariant((char)Math.Min(s[i], 0xffff)), b = char.ToLowerInvariant((char)Math.Min(s[i + 1], 0xffff));
            if (s[i] > 0xffff || s[i + 1] > 0xffff) return false;
            string two = new string(new[] { a, b });
            return two == "st" || two == "nd" || two == "rd" || two == "th";
        }

        static List<Token> Tokens(string text)
        {
            string folded = text.Normalize(NormalizationForm.FormKC).Replace('\u2019', '\'').Replace('\u02bc', '\'');
            int[] s = CodePoints(folded);
            var items = new List<Token>();
            int i = 0;
            while (i < s.Length)
            {
                int c = s[i];
                if (IsDigit(c))
                {
                    int j = i + 1;
                    while (j < s.Length && IsDigit(s[j])) j++;
                    while (j + 1 < s.Length && (s[j] == '.' || s[j] == ',') && IsDigit(s[j + 1]))
                    {
                        j += 2;
                        while (j < s.Length && IsDigit(s[j])) j++;
                    }
                    if (IsSuffix(s, j)) j += 2;
                    var token = new int[j - i];
                    Array.Copy(s, i, token, 0, j - i);
                    foreach (string w in SpokenNumber(token)) items.Add(new Token { Spoken = w });
                    i = j;
                    continue;
                }
                if (IsWordChar(c))
                {
                    int j = i + 1;
                    while (j < s.Length && IsWordChar(s[j])) j++;
                    while (j + 1 < s.Length && s[j] == '\'' && IsWordChar(s[j + 1]))
                    {
                        j += 2;
                        while (j < s.Length && IsWordChar(s[j])) j++;
                    }
                    items.Add(new Token { Spoken = Lower(FromCodePoints(s, i, j)) });
                    i = j;
                    continue;
                }
                int dashEnd = -1;
                if (IsSpace(c))
                {
                    int j = i + 1;
                    while (j < s.Length && s[j] == '-') j++;
                    if (j > i + 1 && j < s.Length && IsSpace(s[j])) dashEnd = j + 1;
                }
                else if (c == '-' && i + 1 < s.Length && s[i + 1] == '-')
                {
                    int j = i + 2;
                    while (j < s.Length && s[j] == '-') j++;
                    dashEnd = j;
                }
                string mark = null;
                if (dashEnd >= 0) mark = "-";
                else if (c <= 0xffff && MarkChars.IndexOf((char)c) >= 0) { mark = ((char)c).ToString(); dashEnd = i + 1; }
                if (mark != null)
                {
                    double pause = SentenceMarks.IndexOf(mark[0]) >= 0 ? SentencePause : ClausePause;
                    if (items.Count > 0 && items[items.Count - 1].Spoken == null)
                        items[items.Count - 1] = new Token { Pause = Math.Max(items[items.Count - 1].Pause, pause) };
                    else if (items.Count > 0)
                        items.Add(new Token { Pause = pause });
                    i = dashEnd;
                    continue;
                }
                string symbol;
                if (symbolWords.TryGetValue(c, out symbol)) items.Add(new Token { Spoken = symbol });
                i++;
            }
            return items;
        }

        // ---- pronunciation ---------------------------------------------------------------------

        static string[] SplitPhones(string s) => s.Split(new[] { ' ', '\t', '\n', '\r', '\f', '\v' }, StringSplitOptions.RemoveEmptyEntries);

        static string[] Pronounce(string word, PronouncingDictionary dictionary, out string source)
        {
            string found = null;
            if (dictionary != null)
            {
                if (!dictionary.TryGet(word, out found)) found = null;
                string stemPhones;
                if (found == null && word.EndsWith("'s", StringComparison.Ordinal) && dictionary.TryGet(word.Substring(0, word.Length - 2), out stemPhones))
                {
                    string[] stem = SplitPhones(stemPhones);
                    string last = stem[stem.Length - 1];
                    string ending = Array.IndexOf(new[] { "S", "Z", "SH", "ZH", "CH", "JH" }, last) >= 0 ? "IH Z"
                        : Array.IndexOf(new[] { "P", "T", "K", "F", "TH" }, last) >= 0 ? "S" : "Z";
                    found = string.Join(" ", stem) + " " + ending;
                }
            }
            if (found != null)
            {
                source = "dict";
                return SplitPhones(found);
            }
            source = "rules";
            return LettersToPhones(word);
        }

        static readonly Tuple<string, string, string>[] rules = new[]
        {
            T("tion", "SH AH N", ""), T("sion", "ZH AH N", ""), T("ough", "AO", ""), T("augh", "AO", ""),
            T("eigh", "EY", ""), T("igh", "AY", ""), T("tch", "CH", ""), T("sch", "S K", ""),
            T("dge", "JH", ""), T("ear", "IH R", ""), T("air", "EH R", ""), T("ure", "Y UH R", "$"),
            T("ch", "CH", ""), T("sh", "SH", ""), T("th", "TH", ""), T("ph", "F", ""), T("wh", "W", ""),
            T("ck", "K", ""), T("ng", "NG", ""), T("qu", "K W", ""), T("gh", "G", "^"), T("gh", "", ""),
            T("kn", "N", "^"), T("wr", "R", "^"), T("rh", "R", "^"), T("mb", "M", "$"), T("ps", "S", "^"),
            T("ee", "IY", ""), T("ea", "IY", ""), T("oo", "UW", ""), T("ou", "AW", ""), T("ow", "OW", "$"),
            T("ow", "AW", ""), T("oi", "OY", ""), T("oy", "OY", ""), T("ai", "EY", ""), T("ay", "EY", ""),
            T("au", "AO", ""), T("aw", "AO", ""), T("ie", "IY", ""), T("ei", "EY", ""), T("ey", "IY", "$"),
            T("ey", "EY", ""), T("oa", "OW", ""), T("ue", "UW", ""), T("ew", "UW", ""),
            T("ar", "AA R", ""), T("or", "AO R", ""), T("er", "ER", ""), T("ir", "ER", ""),
            T("ur", "ER", ""), T("le", "AH L", "$"),
        }.OrderBy(r => -r.Item1.Length).ToArray(); // stable, as Python's sort

        static Tuple<string, string, string> T(string a, string b, string c) => Tuple.Create(a, b, c);

        static readonly Dictionary<char, string> shortVowels = new Dictionary<char, string> { { 'a', "AE" }, { 'e', "EH" }, { 'i', "IH" }, { 'o', "AA" }, { 'u', "AH" } };
        static readonly Dictionary<char, string> longVowels = new Dictionary<char, string> { { 'a', "EY" }, { 'e', "IY" }, { 'i', "AY" }, { 'o', "OW" }, { 'u', "UW" } };
        static readonly Dictionary<char, string> consonants = new Dictionary<char, string>
        {
            { 'b', "B" }, { 'd', "D" }, { 'f', "F" }, { 'h', "HH" }, { 'j', "JH" }, { 'k', "K" }, { 'l', "L" }, { 'm', "M" }, { 'n', "N" },
            { 'p', "P" }, { 'q', "K" }, { 'r', "R" }, { 's', "S" }, { 't', "T" }, { 'v', "V" }, { 'w', "W" }, { 'x', "K S" }, { 'z', "Z" },
        };
        const string VowelLetters = "aeiouy";

        /// <summary>Our own English spelling rules (Python: letters_to_phones).</summary>
        public static string[] LettersToPhones(string word)
        {
            var ascii = new StringBuilder();
            foreach (int cp in CodePoints(word.Normalize(NormalizationForm.FormKD)))
                if (IsAscii(cp) && (IsAlpha(cp) || cp == '\'')) ascii.Append((char)cp);
            string letters = ascii.ToString().ToLowerInvariant().Replace("'", "");
            var phones = new List<string>();
            if (letters.Length == 0)
            {
                int syllables = Math.Max(1, (Length(word) + 1) / 2);
                for (int k = 0; k < syllables; k++) { phones.Add("T"); phones.Add("AH"); }
                return phones.ToArray();
            }
            int n = letters.Length;
            bool silentE = n >= 3 && letters[n - 1] == 'e' && VowelLetters.IndexOf(letters[n - 2]) < 0
                && letters.Substring(0, n - 2).Any(ch => VowelLetters.IndexOf(ch) >= 0);
            int i = 0;
            while (i < n)
            {
                if (silentE && i == n - 1) break;
                bool matched = false;
                foreach (var rule in rules)
                {
                    int size = rule.Item1.Length;
                    string where = rule.Item3;
                    if (string.CompareOrdinal(letters, i, rule.Item1, 0, size) == 0 && i + size <= n
                        && ((where == "^" && i == 0) || (where == "$" && i + size == n) || where == ""))
                    {
                        phones.AddRange(SplitPhones(rule.Item2));
                        i += size;
                        matched = true;
                        break;
                    }
                }
                if (matched) continue;
                char ch = letters[i];
                char following = i + 1 < n ? letters[i + 1] : '\0';
                if ("aeiou".IndexOf(ch) >= 0)
                {
                    bool longVowel = silentE && i == n - 3;
                    phones.Add((longVowel ? longVowels : shortVowels)[ch]);
                }
                else if (ch == 'y')
                {
                    if (i == 0) phones.Add("Y");
                    else if (i == n - 1)
                    {
                        bool single = !letters.Substring(0, n - 1).Any(c => "aeiou".IndexOf(c) >= 0);
                        phones.Add(single ? "AY" : "IY");
                    }
                    else phones.Add("IH");
                }
                else if (ch == 'c') phones.Add(following == 'e' || following == 'i' || following == 'y' ? "S" : "K");
                else if (ch == 'g') phones.Add((following == 'e' || following == 'i' || following == 'y') && i > 0 ? "JH" : "G");
                else if (consonants.ContainsKey(ch))
                {
                    if (following != ch) phones.AddRange(SplitPhones(consonants[ch]));
                }
                i++;
            }
            if (!phones.Any(p => table[p].Syllabic)) phones.Add("AH");
            return phones.ToArray();
        }

        static int StressedIndex(List<string> phones)
        {
            var vowels = new List<int>();
            for (int i = 0; i < phones.Count; i++) if (table[phones[i]].Syllabic) vowels.Add(i);
            if (vowels.Count == 0) return -1;
            foreach (int i in vowels)
                if (phones[i] != "AH" && phones[i] != "IH" && phones[i] != "ER") return i;
            return vowels[0];
        }

        /// <summary>"AH0" / "ah" -> "AH"; anything not in the table -> "SIL".</summary>
        public static string BasePhone(string name)
        {
            string upper = PyStrip(name).ToUpperInvariant().TrimEnd('0', '1', '2');
            return table.ContainsKey(upper) ? upper : "SIL";
        }

        static string Restrict(string shape, bool extended)
        {
            if (extended) return shape;
            return shape == "G" ? "B" : shape == "H" ? "C" : shape;
        }

        /// <summary>Timed phones -> timed shapes (Python: phone_segments).</summary>
        public static List<CueTick> PhoneSegments(List<TimedName> phones, bool extended)
        {
            var output = new List<CueTick>();
            for (int index = 0; index < phones.Count; index++)
            {
                var p = phones[index];
                int start = p.Start, end = p.End;
                if (end <= start) continue;
                var info = table[BasePhone(p.Name)];
                string shape = info.Shape;
                if (shape == "*")
                {
                    shape = "B";
                    if (index + 1 < phones.Count)
                    {
                        var following = table[BasePhone(phones[index + 1].Name)];
                        if (following.Syllabic && phones[index + 1].Start == end) shape = following.Shape.Split('>')[0];
                    }
                }
                int glide = shape.IndexOf('>');
                if (glide >= 0)
                {
                    string first = shape.Substring(0, glide), second = shape.Substring(glide + 1);
                    double part = (end - start) * GlideSplit;
                    int middle = start + Math.Max(1, (int)Math.Round(part, MidpointRounding.ToEven));
                    if (middle < end)
                    {
                        output.Add(new CueTick { Shape = Restrict(first, extended), Start = start, End = middle });
                        output.Add(new CueTick { Shape = Restrict(second, extended), Start = middle, End = end });
                        continue;
                    }
                    shape = first;
                }
                output.Add(new CueTick { Shape = Restrict(shape, extended), Start = start, End = end });
            }
            return output;
        }

        static InvalidOptionsException TextError(string message, string text)
        {
            return new InvalidOptionsException(message, "text", text);
        }

        /// <summary>Python's check_text (the text driver's own checks).</summary>
        public static void CheckText(string text)
        {
            if (text == null)
                throw TextError("option 'text' must be a string of 1 to " + MaxTextChars + " characters; got NoneType", text);
            int length = Length(text);
            if (length > MaxTextChars)
                throw TextError("option 'text' is " + length + " characters long; at most " + MaxTextChars + " are allowed (split the dialogue into shorter lines)", text);
            if (PyStrip(text).Length == 0)
                throw TextError("option 'text' must contain something to say (1 to " + MaxTextChars + " characters); got an empty or whitespace-only string", text);
        }

        /// <summary>Mouth-shape cues for a line of dialogue timed from a speaking rate, in
        /// syllables per second of speech (Python: lipsync.text_track). Without a dictionary
        /// every word goes through the spelling rules (method "rules").</summary>
        public static CueTrack TextTrack(string text, PronouncingDictionary dictionary = null, double rate = DefaultRate, bool extended = true)
        {
            CheckText(text);
            if (double.IsNaN(rate) || double.IsInfinity(rate) || rate < RateMin || rate > RateMax)
                throw new InvalidOptionsException("option 'rate' must be a number in [" + PyText.G(RateMin) + ", " + PyText.G(RateMax) + "] (syllables per second); got " + PyText.Repr(rate), "rate", rate);
            // 1. words and pauses -> phones with base durations (ms) and a word index
            var planPhones = new List<string>();
            var planMs = new List<double>();
            var planWord = new List<int>();
            var words = new List<string>();
            var sources = new HashSet<string>();
            int syllables = 0;
            foreach (Token item in Tokens(text))
            {
                if (item.Spoken == null)
                {
                    planPhones.Add("SIL"); planMs.Add(item.Pause * 1000); planWord.Add(-1);
                    continue;
                }
                string spoken = item.Spoken;
                string source;
                var phones = new List<string>();
                foreach (string p in Pronounce(spoken, dictionary, out source))
                {
                    string b = BasePhone(p);
                    if (b != "SIL") phones.Add(b);
                }
                sources.Add(source);
                bool function = functionWords.Contains(spoken);
                int stress = function ? -1 : StressedIndex(phones);
                for (int i = 0; i < phones.Count; i++)
                {
                    double ms = table[phones[i]].Ms;
                    if (function) ms *= FunctionWordScale;
                    else if (i == stress) ms *= StressScale;
                    if (table[phones[i]].Syllabic) syllables++;
                    planPhones.Add(phones[i]); planMs.Add(ms); planWord.Add(words.Count);
                }
                words.Add(spoken);
            }
            if (words.Count == 0)
                throw TextError("option 'text' has no words to say (only punctuation or symbols); give a line of 1 to " + MaxTextChars + " characters with words or numbers", text);
            // 2. scale speech to the rate, keep pauses, quantise on the 10 ms grid
            double speechMs = 0.0;
            for (int i = 0; i < planPhones.Count; i++) if (planPhones[i] != "SIL") speechMs += planMs[i];
            double perSecond = Math.Max(syllables, 1) / rate;
            double scale = perSecond * 1000 / speechMs;
            double planTail = Tail * 1000;
            while (planPhones.Count > 0 && planPhones[planPhones.Count - 1] == "SIL")
            {
                int last = planPhones.Count - 1;
                planTail = Math.Max(planTail, planMs[last]);
                planPhones.RemoveAt(last); planMs.RemoveAt(last); planWord.RemoveAt(last);
            }
            double clock = LeadIn * 1000;
            var timed = new List<TimedName>();
            var timedWord = new List<int>();
            for (int i = 0; i < planPhones.Count; i++)
            {
                bool silence = planPhones[i] == "SIL";
                double length = silence ? planMs[i] : planMs[i] * scale;
                int start = (int)Math.Round(clock / 10, MidpointRounding.ToEven);
                clock += length;
                int end = Math.Max((int)Math.Round(clock / 10, MidpointRounding.ToEven), start + (silence ? 0 : MinPhoneTicks));
                clock = Math.Max(clock, end * 10.0);
                timed.Add(new TimedName { Name = planPhones[i], Start = start, End = end });
                timedWord.Add(planWord[i]);
            }
            int total = (int)Math.Round((clock + planTail) / 10, MidpointRounding.ToEven);
            if (total > CueFiles.MaxSeconds * 100)
                throw TextError("option 'text' takes " + (total / 100.0).ToString("F1", CultureInfo.InvariantCulture) + " s to say at " + PyText.G(rate)
                    + " syllables/s, longer than the " + PyText.G(CueFiles.MaxSeconds) + " s limit; split the line or raise 'rate'", text);
            var speech = new List<TimedName>();
            foreach (var t in timed) if (t.Name != "SIL" && t.End > t.Start) speech.Add(t);
            var segments = PhoneSegments(speech, extended);
            var wordTimes = new List<TimedName>();
            for (int index = 0; index < words.Count; index++)
            {
                int first = -1, lastEnd = -1;
                for (int k = 0; k < timed.Count; k++)
                {
                    if (timedWord[k] != index || timed[k].End <= timed[k].Start) continue;
                    if (first < 0) first = timed[k].Start;
                    lastEnd = timed[k].End;
                }
                if (first >= 0) wordTimes.Add(new TimedName { Name = words[index], Start = first, End = lastEnd });
            }
            string method = sources.Count == 1 && sources.Contains("dict") ? "dict" : sources.Count == 1 && sources.Contains("rules") ? "rules" : "dict+rules";
            return new CueTrack(CueFiles.BuildCues(segments, total), total / 100.0, method, "")
            {
                Source = "text",
                Extended = extended,
                Words = wordTimes,
                Phones = speech,
            };
        }
    }
}
