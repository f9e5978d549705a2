// The dialogue GPT's subword pieces and word mask in C# (Python:
// plugins/assetgen_dialogue/pieces.py, PieceTable and WordMask): the piece table of
// pieces.json (Viterbi segmentation over the unigram scores, decoding), the token ids
// (pieces, <pad>, <eos>, then the tags of the manifest in the order source, role, race,
// length) and the mask of the pieces that keep every word of a line a word of the training
// text. Text rules follow Python's str methods for the characters the shipped tables hold
// (ASCII and U+2581); see docs/runtime.md for the limits.
using System;
using System.Collections.Generic;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>pieces.json and the manifest's tags as token ids.</summary>
    public sealed class PieceTable
    {
        public const char Space = '\u2581';
        public static readonly string[] TagKinds = { "source", "role", "race", "length" };

        public string[] Pieces { get; }
        public double[] Scores { get; }
        public string[] Kinds { get; }
        public int Pad { get; }
        public int Eos { get; }
        public int VocabSize { get; }
        public Dictionary<string, List<string>> Tags { get; }
        readonly Dictionary<string, int> index = new Dictionary<string, int>(StringComparer.Ordinal);
        readonly Dictionary<string, int> tagIds = new Dictionary<string, int>(StringComparer.Ordinal);
        readonly int longest;
        readonly double unkScore;

        public PieceTable(string[] pieces, double[] scores, string[] kinds, Dictionary<string, List<string>> tags)
        {
            if (pieces.Length == 0 || scores.Length != pieces.Length || kinds.Length != pieces.Length)
                throw new ModelException("pieces.json: 'pieces', 'scores' and 'kinds' must be lists of one length (at least one piece)");
            Pieces = pieces;
            Scores = scores;
            Kinds = kinds;
            for (int i = 0; i < pieces.Length; i++) index[pieces[i]] = i;
            Pad = pieces.Length;
            Eos = Pad + 1;
            Tags = tags;
            int next = Eos + 1;
            foreach (string kind in TagKinds)
                foreach (string value in tags[kind])
                {
                    tagIds[kind + "\u0000" + value] = next;
                    next++;
                }
            VocabSize = next;
            double min = double.PositiveInfinity;
            foreach (string p in pieces) longest = Math.Max(longest, p.Length);
            foreach (double s in scores) if (s < min) min = s;
            unkScore = min - 10.0;
        }

        public int Tag(string kind, string value)
        {
            int id;
            if (!tagIds.TryGetValue(kind + "\u0000" + value, out id))
                throw new KeyNotFoundException("no " + kind + " tag " + value);
            return id;
        }

        public int[] Conditioning(string source, string role, string race, string length)
        {
            return new[] { Tag("source", source), Tag("role", role), Tag("race", race), Tag("length", length) };
        }

        /// <summary>Piece ids of <paramref name="text"/> (a leading word-start mark added, as
        /// sentencepiece does): the best-scoring segmentation, ties to the first found.</summary>
        public List<int> Encode(string text)
        {
            string s = Space + text.Replace(' ', Space);
            int n = s.Length;
            var best = new double[n + 1];
            var backStart = new int[n + 1];
            var backId = new int[n + 1];
            for (int i = 1; i <= n; i++) best[i] = double.NegativeInfinity;
            best[0] = 0.0;
            for (int end = 1; end <= n; end++)
            {
                for (int start = Math.Max(0, end - longest); start < end; start++)
                {
                    if (double.IsNegativeInfinity(best[start])) continue;
                    string piece = s.Substring(start, end - start);
                    int pid;
                    double score;
                    if (!index.TryGetValue(piece, out pid) || Kinds[pid] == "unknown")
                    {
                        if (end - start != 1) continue;
                        score = unkScore;
                        pid = 0;
                    }
                    else if (Kinds[pid] == "user") score = 0.0;
                    else score = Scores[pid];
                    double total = best[start] + score;
                    if (total > best[end])
                    {
                        best[end] = total;
                        backStart[end] = start;
                        backId[end] = pid;
                    }
                }
            }
            var ids = new List<int>();
            int at = n;
            while (at > 0)
            {
                ids.Add(backId[at]);
                at = backStart[at];
            }
            ids.Reverse();
            return ids;
        }

        public string Decode(IEnumerable<int> ids)
        {
            var sb = new StringBuilder();
            foreach (int i in ids) if (i > 0 && i < Pad) sb.Append(Pieces[i]);
            return PyStr.Strip(sb.ToString().Replace(Space, ' '));
        }
    }

    /// <summary>Python's str predicates and strip for the runtime's text rules.</summary>
    public static class PyStr
    {
        public static bool IsSpace(char c)
        {
            return char.IsWhiteSpace(c) || (c >= '\u001c' && c <= '\u001f');
        }

        public static string Strip(string s)
        {
            int a = 0, b = s.Length;
            while (a < b && IsSpace(s[a])) a++;
            while (b > a && IsSpace(s[b - 1])) b--;
            return s.Substring(a, b - a);
        }

        public static string RStrip(string s)
        {
            int b = s.Length;
            while (b > 0 && IsSpace(s[b - 1])) b--;
            return s.Substring(0, b);
        }

        public static string RStrip(string s, string chars)
        {
            int b = s.Length;
            while (b > 0 && chars.IndexOf(s[b - 1]) >= 0) b--;
            return s.Substring(0, b);
        }

        public static string Strip(string s, string chars)
        {
            int a = 0, b = s.Length;
            while (a < b && chars.IndexOf(s[a]) >= 0) a++;
            while (b > a && chars.IndexOf(s[b - 1]) >= 0) b--;
            return s.Substring(a, b - a);
        }

        public static bool IsAlpha(char c) { return char.IsLetter(c); }
        public static bool IsWordChar(char c) { return char.IsLetter(c) || c == '\''; }
        public static string Lower(string s) { return s.ToLowerInvariant(); }
    }

    /// <summary>Which pieces keep every word of the line a word of the training text (Python:
    /// pieces.WordMask). The state is the word being spelled ("" between words, "}" just
    /// after a placeholder).</summary>
    public sealed class WordMask
    {
        public const string AfterPlaceholder = "}";
        readonly HashSet<string> words = new HashSet<string>(StringComparer.Ordinal);
        readonly HashSet<string> prefixes = new HashSet<string>(StringComparer.Ordinal);
        readonly PieceTable table;
        readonly bool[] afterBreak;
        readonly List<int> userIds = new List<int>();
        readonly List<Continuing> continuing = new List<Continuing>();
        readonly Dictionary<string, bool[]> cache = new Dictionary<string, bool[]>(StringComparer.Ordinal);

        /// <summary>The pieces as text (U+2581 as a space), by piece id.</summary>
        public string[] Texts { get; }

        struct Continuing
        {
            public int Id;
            public string Head;
            public bool Break;
            public bool RestOk;
        }

        public WordMask(IEnumerable<string> wordList, PieceTable table)
        {
            foreach (string w in wordList)
            {
                bool alpha = false;
                foreach (char c in w) if (PyStr.IsAlpha(c)) { alpha = true; break; }
                if (alpha) words.Add(PyStr.Lower(w));
            }
            foreach (string w in words)
                for (int i = 1; i <= w.Length; i++) prefixes.Add(w.Substring(0, i));
            this.table = table;
            Texts = new string[table.Pieces.Length];
            for (int i = 0; i < Texts.Length; i++) Texts[i] = table.Pieces[i].Replace(PieceTable.Space, ' ');
            for (int i = 0; i < table.Kinds.Length; i++) if (table.Kinds[i] == "user") userIds.Add(i);
            afterBreak = new bool[table.VocabSize];
            for (int i = 0; i < Texts.Length; i++)
            {
                if (table.Kinds[i] == "unknown") continue;
                if (table.Kinds[i] == "user")
                {
                    afterBreak[i] = true;
                    continue;
                }
                string text = Texts[i];
                int h = 0;
                while (h < text.Length && PyStr.IsWordChar(text[h])) h++;
                string head = text.Substring(0, h);
                string rest = text.Substring(h);
                bool restOk = rest.Length > 0 ? Advance("", rest) != null : true;
                if (head.Length > 0) continuing.Add(new Continuing { Id = i, Head = head, Break = rest.Length > 0, RestOk = restOk });
                else if (restOk) afterBreak[i] = true;
            }
        }

        public bool IsPrefix(string lowerWord) { return prefixes.Contains(lowerWord); }

        /// <summary>"word", "Word" or "WORD" (apostrophes aside), not "wOrd".</summary>
        public static bool CaseOk(string word)
        {
            var letters = new List<char>();
            foreach (char c in word) if (PyStr.IsAlpha(c)) letters.Add(c);
            if (letters.Count < 2) return true;
            bool restLower = true;
            for (int i = 1; i < letters.Count; i++) if (!char.IsLower(letters[i])) { restLower = false; break; }
            if (restLower) return true;
            foreach (char c in letters) if (!char.IsUpper(c)) return false;
            return true;
        }

        /// <summary>The state after <paramref name="text"/>, or null when it spells an unknown
        /// word (or, with <paramref name="strictCase"/>, mixes case in a word).</summary>
        public string Advance(string state, string text, bool strictCase = true)
        {
            foreach (char ch in text)
            {
                if (PyStr.IsWordChar(ch))
                {
                    if (state == AfterPlaceholder) return null;
                    state += ch;
                    if (!prefixes.Contains(PyStr.Lower(state)) || (strictCase && !CaseOk(state))) return null;
                }
                else
                {
                    if (state.Length > 0 && !Complete(state)) return null;
                    state = "";
                }
            }
            return state;
        }

        public bool Complete(string state)
        {
            if (state.Length == 0 || state == AfterPlaceholder) return true;
            string low = PyStr.Lower(state);
            return words.Contains(low) || words.Contains(PyStr.Strip(low, "'"));
        }

        static bool Any(bool[] mask)
        {
            foreach (bool b in mask) if (b) return true;
            return false;
        }

        /// <summary>The mask over the whole vocabulary (shared: do not change it).</summary>
        public bool[] Allowed(string state)
        {
            bool[] cached;
            if (cache.TryGetValue(state, out cached)) return cached;
            cached = Mask(state, true);
            if (!Any(cached)) cached = Mask(state, false);
            if (!Any(cached))
            {
                cached = new bool[afterBreak.Length];
                for (int i = 1; i < table.Pad; i++) cached[i] = true;
                cached[table.Eos] = true;
            }
            if (cache.Count < 50000) cache[state] = cached;
            return cached;
        }

        bool[] Mask(string state, bool strictCase)
        {
            bool done = Complete(state);
            var mask = done ? (bool[])afterBreak.Clone() : new bool[afterBreak.Length];
            foreach (int u in userIds) mask[u] = state.Length == 0;
            mask[table.Eos] = done;
            if (state == AfterPlaceholder) return mask;
            foreach (var c in continuing)
            {
                string word = state + c.Head;
                if (strictCase && !CaseOk(word)) continue;
                if (c.Break) mask[c.Id] = c.RestOk && Complete(word);
                else mask[c.Id] = prefixes.Contains(PyStr.Lower(word));
            }
            return mask;
        }

        public string StateAfter(string state, int pieceId)
        {
            if (table.Kinds[pieceId] == "user") return AfterPlaceholder;
            string text = Texts[pieceId];
            string next = Advance(state, text);
            if (next == null) next = Advance(state, text, false);
            return next ?? "";
        }
    }
}
