// The dialogue generator in C# (Python: plugins/assetgen_dialogue/plugin.py, gpt_lines.py,
// pieces.py, rerank.py): NPC lines by role from the subword GPT's step graph
// (dialogue_gpt_step.onnx, an explicit key/value cache), with the Python API's sampling
// options. One line:
//
// 1. SeedStream(seed, "dialogue.tags") draws the role and the length bucket (both always);
// 2. the four tag tokens and the prompt's pieces go through the step graph for all N
//    candidates at once (rows of one batch; with archetype_guidance N more rows whose role
//    tag is "any");
// 3. candidate k samples from SeedStream(seed, "dialogue.candidate", k) (by_sentence:
//    "dialogue.sentence", 64 r + k): log-softmax, guidance, the word mask and line rules,
//    temperature / top-k / top-p, one uniform per piece;
// 4. the length floor, the line checks and the reranker choose (by_sentence: per sentence);
// 4b. whole-line, with a scorer that gives a probability (judged, learned): while the best
//    candidate that passes the floor and the checks scores below accept and not below
//    give_up, N more are sampled (round r: "dialogue.candidate", N r + k), up to rounds
//    rounds, and the best of all is kept.
//
// Every sampling decision is float64 in numpy's order of operations (pairwise sums, running
// sums for cumsum, stable sorts). Sizes (layers, heads, head size, vocabulary, tags, context)
// come from the graph and the manifest; nothing of the shipped model is compiled in.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AssetGen.Runtime
{
    /// <summary>The dialogue options (Python: DialogueOptions), with Python's defaults.</summary>
    public sealed class DialogueOptions
    {
        public string Archetype { get; set; } = "random";
        public string Source { get; set; } = "wesnoth";
        public string Race { get; set; } = "any";
        public string Length { get; set; } = "random";
        public double Temperature { get; set; } = 0.6;
        public int TopK { get; set; } = 0;
        public double TopP { get; set; } = 0.9;
        public int MaxChars { get; set; } = 200;
        public string Prompt { get; set; } = "";
        public int Candidates { get; set; } = 16;
        /// <summary>With judged or learned reranking (its file present) and more than one
        /// candidate: while the best candidate's probability is below <see cref="Accept"/>
        /// (and not below <see cref="GiveUp"/>), sample Candidates more, up to this many rounds
        /// in all (1 to 16; 1 = one round).</summary>
        public int Rounds { get; set; } = 4;
        /// <summary>The scorer's probability at which no more rounds are sampled (0 to 1; 0 =
        /// stop after the first round, 1 = always sample every round).</summary>
        public double Accept { get; set; } = 0.5;
        /// <summary>No more rounds when the best candidate's probability is below this (0 to
        /// 1; 0 = never give up).</summary>
        public double GiveUp { get; set; } = 0.15;
        /// <summary>judged (judged_scorer.json), learned (scorer.json), likelihood or mixed; a
        /// model folder without the scorer's file ranks by likelihood.</summary>
        public string Rerank { get; set; } = "judged";
        public int MinChars { get; set; } = -1;
        public bool Filters { get; set; } = true;
        public bool SlipChecks { get; set; } = true;
        public bool WordMask { get; set; } = true;
        public bool SourceWords { get; set; } = true;
        public bool BySentence { get; set; } = false;
        public string SentenceRerank { get; set; } = "likelihood";
        public double SentenceTemperature { get; set; } = 0.0;
        public string Name { get; set; } = "";
        public string Place { get; set; } = "";
        public double ArchetypeGuidance { get; set; } = 0.0;
    }

    /// <summary>One line and what a game needs to know about it (Python: the TextAsset's
    /// text, speaker and metadata).</summary>
    public sealed class DialogueLine
    {
        public long Seed { get; internal set; }
        /// <summary>The line, {NAME} and {PLACE} filled when the options name them.</summary>
        public string Text { get; internal set; }
        /// <summary>The name option, else the role.</summary>
        public string Speaker { get; internal set; }
        /// <summary>The role (archetype) the line was made for.</summary>
        public string Archetype { get; internal set; }
        public string Source { get; internal set; }
        public string Race { get; internal set; }
        /// <summary>The length bucket: short, medium, long (or any).</summary>
        public string Length { get; internal set; }
        /// <summary>Why the chosen candidate ended: eos, sentence, max_chars or context.</summary>
        public string Stop { get; internal set; }
        public int Candidates { get; internal set; }
        public int Chosen { get; internal set; }
        public double Score { get; internal set; }
        /// <summary>"{NAME}" and/or "{PLACE}" when the line (before filling) holds them.</summary>
        public List<string> Placeholders { get; internal set; }
        public List<string> Faults { get; internal set; }
        public int Sentences { get; internal set; }
        /// <summary>How many rounds of candidates were sampled (1 sentence by sentence, with
        /// one candidate, without a scorer that gives a probability, and for the LSTM).</summary>
        public int Rounds { get; internal set; } = 1;
        public string License { get; internal set; }
    }

    sealed class DialogueCandidate
    {
        public string Text;
        public double[] Logprobs;
        public string Stop;
        public List<int> Pieces;
    }

    /// <summary>A dialogue model of either architecture: <see cref="DialogueGenerator"/>
    /// (the subword GPT, "architecture": "gpt") or <see cref="DialogueLstmGenerator"/> (the
    /// character LSTM, e.g. the public-domain Shakespeare model). <see
    /// cref="DialogueGenerator.Open(string, SessionSettings)"/> picks the one the folder's
    /// manifest names, as the Python API does.</summary>
    public interface IDialogueGenerator : IDisposable
    {
        ModelFolder Folder { get; }
        /// <summary>The roles (archetypes) a line can be made for.</summary>
        IReadOnlyList<string> Roles { get; }
        string License { get; }
        void Validate(DialogueOptions options);
        DialogueLine Generate(long seed, DialogueOptions options = null);
        List<DialogueLine> GenerateBatch(IList<long> seeds, DialogueOptions options = null);
    }

    /// <summary>The batch rule both dialogue generators share: the seeds and options are
    /// checked first, then each seed's line is made alone, so it does not depend on the batch
    /// (Python: DialogueGenerator._generate_lines).</summary>
    static class DialogueBatch
    {
        internal static List<DialogueLine> Lines(IList<long> seeds, DialogueOptions options,
            Action<DialogueOptions> validate, Func<long, DialogueOptions, DialogueLine> line)
        {
            options = options ?? new DialogueOptions();
            foreach (long seed in seeds) RequestChecks.Seed(seed);
            validate(options);
            var lines = new List<DialogueLine>();
            foreach (long seed in seeds) lines.Add(line(seed, options));
            return lines;
        }
    }

    public sealed class DialogueGenerator : IDialogueGenerator
    {
        public const string Graph = "dialogue_gpt_step.onnx";
        public const int MinRoleLines = 40;
        public const int MaxSentences = 8;
        public const int MaxCharsLimit = 400;
        const string LineStart = "{('\".";
        const string LineEnd = ".!?'\")";
        static readonly Regex SentenceEnd = new Regex("[.!?][\"')]?\\s*$", RegexOptions.CultureInvariant);
        static readonly string[] LengthChoices = { "random", "short", "medium", "long" };
        static readonly string[] RerankChoices = { "judged", "learned", "likelihood", "mixed" };
        /// <summary>The model folder's file of each learned reranker (Python: SCORER_FILES); a
        /// folder without it ranks by likelihood.</summary>
        public static readonly IReadOnlyDictionary<string, string> ScorerFiles = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            { "learned", "scorer.json" },
            { "judged", "judged_scorer.json" },
        };

        readonly ModelFolder folder;
        readonly Dictionary<string, object> manifest;
        readonly PieceTable table;
        readonly HashSet<string> words;
        readonly WordMask mask;
        readonly Dictionary<string, List<string>> sourceWordLists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        readonly Dictionary<string, WordMask> sourceMasks = new Dictionary<string, WordMask>(StringComparer.Ordinal);
        // the rerankers the folder ships (rerank): learned = scorer.json, judged = judged_scorer.json
        readonly Dictionary<string, DialogueScorer> scorers = new Dictionary<string, DialogueScorer>(StringComparer.Ordinal);
        // the data set's lines, hashed (data_lines.json): with Filters a candidate that would
        // end the line as one of them is refused (a copy, not a generated line)
        readonly HashSet<ulong> dataLines = new HashSet<ulong>();
        readonly bool[] openVocab;
        readonly bool[] firstOk;
        readonly Dictionary<string, object> lengthBuckets;

        public ModelFolder Folder => folder;
        /// <summary>The roles a line can be made for (the manifest's role tags but "any").</summary>
        public IReadOnlyList<string> Roles { get; }
        public IReadOnlyList<string> SourceTags => table.Tags["source"];
        public IReadOnlyList<string> RaceTags => table.Tags["race"];
        public int VocabSize => table.VocabSize;
        public int Layers { get; }
        public int Heads { get; }
        public int HeadDim { get; }
        public int Context { get; }
        public string License { get; }

        public DialogueGenerator(string modelDirectory, SessionSettings settings = null)
            : this(new ModelFolder(modelDirectory, settings))
        {
        }

        /// <summary>Whether a dialogue manifest describes the GPT (Python:
        /// DialogueGenerator.is_gpt: "architecture" is "gpt"; anything else is a character
        /// LSTM).</summary>
        public static bool IsGpt(Dictionary<string, object> manifest)
        {
            object a;
            return manifest != null && manifest.TryGetValue("architecture", out a) && "gpt".Equals(a);
        }

        /// <summary>The generator of a dialogue model folder, by its manifest's "architecture"
        /// (Python's choice): the GPT's <see cref="DialogueGenerator"/>, else the character
        /// LSTM's <see cref="DialogueLstmGenerator"/> (the Shakespeare model).</summary>
        public static IDialogueGenerator Open(string modelDirectory, SessionSettings settings = null)
        {
            return Open(new ModelFolder(modelDirectory, settings));
        }

        /// <summary><see cref="Open(string, SessionSettings)"/> on an already verified folder
        /// (e.g. read through a callback); the generator disposes it.</summary>
        public static IDialogueGenerator Open(ModelFolder model)
        {
            if (model == null) throw new ArgumentNullException(nameof(model));
            if (IsGpt(model.Manifest)) return new DialogueGenerator(model);
            return new DialogueLstmGenerator(model);
        }

        /// <summary>A generator on an already verified model folder; it disposes the folder.</summary>
        public DialogueGenerator(ModelFolder model)
        {
            folder = model ?? throw new ArgumentNullException(nameof(model));
            try
            {
                manifest = folder.Manifest;
                if (!IsGpt(manifest))
                {
                    object a;
                    manifest.TryGetValue("architecture", out a);
                    throw ManifestFields.Bad("architecture", (a == null ? "is missing" : "is " + ManifestFields.Describe(a))
                        + ", not 'gpt': this is a character LSTM; open it with DialogueLstmGenerator or DialogueGenerator.Open");
                }
                var tagsField = ManifestFields.Object(ManifestFields.Get(manifest, "tags", "tags"), "tags");
                var tags = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                foreach (string kind in PieceTable.TagKinds)
                {
                    var list = new List<string>();
                    foreach (object v in ManifestFields.Array(ManifestFields.Get(tagsField, kind, "tags." + kind), "tags." + kind))
                        list.Add(ManifestFields.String(v, "tags." + kind));
                    tags[kind] = list;
                }
                table = LoadPieces(tags);
                string wordsText = Encoding.UTF8.GetString(folder.ReadFile("words.txt"));
                var wordList = SplitWhite(wordsText);
                words = new HashSet<string>(wordList, StringComparer.Ordinal);
                mask = new WordMask(wordList, table);
                var files = ManifestFields.Object(ManifestFields.Get(manifest, "files", "files"), "files");
                if (files.ContainsKey("source_words.json"))
                {
                    var doc = ManifestFields.Object(Json.Parse(Encoding.UTF8.GetString(folder.ReadFile("source_words.json"))), "source_words.json");
                    foreach (var kv in doc)
                    {
                        var list = new List<string>();
                        foreach (object w in ManifestFields.Array(kv.Value, "source_words." + kv.Key)) list.Add(ManifestFields.String(w, "source_words." + kv.Key));
                        sourceWordLists[kv.Key] = list;
                    }
                }
                if (files.ContainsKey("data_lines.json")) ReadDataLines(folder.ReadFile("data_lines.json"));
                foreach (string how in new[] { "learned", "judged" })
                {
                    string name = ScorerFiles[how];
                    if (files.ContainsKey(name)) scorers[how] = ReadScorer(name);
                }
                var roles = new List<string>();
                foreach (string r in tags["role"]) if (r != "any") roles.Add(r);
                Roles = roles;
                openVocab = new bool[table.VocabSize];
                for (int i = 1; i < table.Pad; i++) openVocab[i] = true;
                openVocab[table.Eos] = true;
                firstOk = new bool[table.VocabSize];
                for (int i = 0; i < table.Pieces.Length; i++)
                {
                    string text = table.Pieces[i].TrimStart(PieceTable.Space);
                    if (table.Kinds[i] != "unknown" && text.Length > 0 && (char.IsUpper(text[0]) || LineStart.IndexOf(text[0]) >= 0))
                        firstOk[i] = true;
                }
                lengthBuckets = ManifestFields.Object(ManifestFields.Get(manifest, "length_buckets", "length_buckets"), "length_buckets");
                Context = ManifestFields.NonNegativeInt(manifest, "context");
                object license;
                License = manifest.TryGetValue("license", out license) && license is string ? (string)license : "";
                // the cache's shape from the graph (past_key: layers, batch, heads, past, head size)
                var session = folder.Session(Graph);
                long[] pastKey;
                if (!session.InputShapes.TryGetValue("past_key", out pastKey) || !session.InputShapes.ContainsKey("past_value") || !session.InputShapes.ContainsKey("token"))
                    throw new ModelException(Graph + " has no inputs 'token', 'past_key' and 'past_value'; the manifest describes another model");
                if (pastKey.Length != 5)
                    throw new ModelException(Graph + ": input 'past_key' has " + pastKey.Length + " dimensions, not 5 (layers, batch, heads, past, head size)");
                Layers = pastKey[0] > 0 ? (int)pastKey[0] : ManifestFields.NonNegativeInt(manifest, "layers");
                Heads = pastKey[2] > 0 ? (int)pastKey[2] : ManifestFields.NonNegativeInt(manifest, "heads");
                HeadDim = pastKey[4] > 0 ? (int)pastKey[4] : ManifestFields.NonNegativeInt(manifest, "dim") / Math.Max(Heads, 1);
                CheckSize("layers", Layers);
                CheckSize("heads", Heads);
                object dim;
                if (manifest.TryGetValue("dim", out dim) && dim is long && (long)dim != (long)Heads * HeadDim)
                    throw ManifestFields.Bad("dim", "is " + dim + "; " + Graph + " has " + Heads + " heads of size " + HeadDim);
                object vocab;
                if (manifest.TryGetValue("vocab_size", out vocab) && vocab is long && (long)vocab != table.VocabSize)
                    throw ManifestFields.Bad("vocab_size", "is " + vocab + "; pieces.json and the tags make " + table.VocabSize + " tokens");
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }

        void CheckSize(string field, int fromGraph)
        {
            object value;
            if (manifest.TryGetValue(field, out value) && value is long && (long)value != fromGraph)
                throw ManifestFields.Bad(field, "is " + value + "; " + Graph + " has " + fromGraph);
        }

        /// <summary>A reranker's file, refused with Python's messages (Scorer.from_json).</summary>
        DialogueScorer ReadScorer(string name)
        {
            object doc;
            try
            {
                doc = Json.Parse(Encoding.UTF8.GetString(folder.ReadFile(name)));
            }
            catch (FormatException ex)
            {
                throw new ModelException(name + ": not JSON (" + ex.Message + ")");
            }
            return DialogueScorer.FromJson(doc, name);
        }

        static List<string> SplitWhite(string text)
        {
            var output = new List<string>();
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && PyStr.IsSpace(text[i])) i++;
                int start = i;
                while (i < text.Length && !PyStr.IsSpace(text[i])) i++;
                if (i > start) output.Add(text.Substring(start, i - start));
            }
            return output;
        }

        PieceTable LoadPieces(Dictionary<string, List<string>> tags)
        {
            var doc = ManifestFields.Object(Json.Parse(Encoding.UTF8.GetString(folder.ReadFile("pieces.json"))), "pieces.json");
            var pieces = ManifestFields.Array(ManifestFields.Get(doc, "pieces", "pieces"), "pieces");
            var scores = ManifestFields.Array(ManifestFields.Get(doc, "scores", "scores"), "scores");
            var kinds = ManifestFields.Array(ManifestFields.Get(doc, "kinds", "kinds"), "kinds");
            var p = new string[pieces.Count];
            var s = new double[scores.Count];
            var k = new string[kinds.Count];
            for (int i = 0; i < p.Length; i++) p[i] = ManifestFields.String(pieces[i], "pieces");
            for (int i = 0; i < s.Length; i++) s[i] = ManifestFields.Number(scores[i], "scores");
            for (int i = 0; i < k.Length; i++) k[i] = ManifestFields.String(kinds[i], "kinds");
            return new PieceTable(p, s, k, tags);
        }

        // -- options ------------------------------------------------------------------------

        static InvalidOptionsException Fail(string option, string allowed, string shown, string why = null)
        {
            return new InvalidOptionsException("option '" + option + "' must be " + allowed + "; got " + shown + (why == null ? "" : " (" + why + ")"), option, shown);
        }

        internal static string OneOf(IEnumerable<string> choices)
        {
            var quoted = new List<string>();
            foreach (string c in choices) quoted.Add(PyText.Repr(c));
            return "one of " + string.Join(", ", quoted);
        }

        static void Text(string option, string value, int maxLength, IList<string> choices = null)
        {
            string allowed = choices != null ? OneOf(choices) : "text of at most " + maxLength + " characters";
            if (value == null) throw Fail(option, allowed, "None");
            string shown = PyText.Show(PyText.Repr(value));
            if (StringInfoLength(value) > maxLength) throw Fail(option, allowed, shown);
            if (value.IndexOf('\0') >= 0) throw Fail(option, allowed, shown, "it contains a NUL character");
            for (int i = 0; i < value.Length; i++)
            {
                if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
                if (char.IsSurrogate(value[i])) throw Fail(option, allowed, shown, "it is not valid Unicode text (undecodable bytes or a lone surrogate)");
            }
            if (choices != null && !choices.Contains(value)) throw Fail(option, allowed, shown);
        }

        // Python's len(): code points (a surrogate pair is one)
        internal static int StringInfoLength(string s)
        {
            int n = 0;
            for (int i = 0; i < s.Length; i++)
            {
                if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
                n++;
            }
            return n;
        }

        static void Number(string option, double value, double low, double high)
        {
            if (double.IsNaN(value) || double.IsInfinity(value) || value < low || value > high)
                throw Fail(option, "a number from " + PyText.G(low) + " to " + PyText.G(high), PyText.Repr(value));
        }

        static void Integer(string option, int value, int low, int high)
        {
            if (value < low || value > high)
                throw Fail(option, "an integer from " + low + " to " + high, value.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>The checks of the option declarations (Python: DialogueOptions), the same
        /// for both architectures (the LSTM ignores the GPT-only options but Python checks them
        /// all the same). <paramref name="sources"/>: the source choices (null: any text; the
        /// LSTM has no source tags).</summary>
        internal static void CheckDeclared(DialogueOptions o, IList<string> sources)
        {
            Text("archetype", o.Archetype, 1000);
            Text("source", o.Source, 1000, sources);
            Text("race", o.Race, 40);
            Text("length", o.Length, 1000, LengthChoices);
            Number("temperature", o.Temperature, 0.1, 2.0);
            Integer("top_k", o.TopK, 0, 4096);
            Number("top_p", o.TopP, 0.0, 1.0);
            Integer("max_chars", o.MaxChars, 1, MaxCharsLimit);
            Text("prompt", o.Prompt, MaxCharsLimit);
            Integer("candidates", o.Candidates, 1, 32);
            Integer("rounds", o.Rounds, 1, 16);
            Number("accept", o.Accept, 0.0, 1.0);
            Number("give_up", o.GiveUp, 0.0, 1.0);
            Text("rerank", o.Rerank, 1000, RerankChoices);
            Integer("min_chars", o.MinChars, -1, MaxCharsLimit);
            Text("sentence_rerank", o.SentenceRerank, 1000, RerankChoices);
            Number("sentence_temperature", o.SentenceTemperature, 0.0, 2.0);
            Text("name", o.Name, 100);
            Text("place", o.Place, 100);
            Number("archetype_guidance", o.ArchetypeGuidance, 0.0, 8.0);
        }

        /// <summary>DialogueGenerator.validate's checks before the model's own (both
        /// architectures): top_p above 0, a prompt no longer than max_chars.</summary>
        internal static void CheckRequest(DialogueOptions o)
        {
            if (o.TopP <= 0.0)
                throw new InvalidOptionsException("option 'top_p' must be a number greater than 0 and at most 1 (1 = off); got " + PyText.Repr(o.TopP), "top_p", o.TopP);
            if (StringInfoLength(o.Prompt) > o.MaxChars)
                throw new InvalidOptionsException("option 'prompt' is " + StringInfoLength(o.Prompt) + " characters long, more than max_chars=" + o.MaxChars + "; shorten it or raise max_chars", "prompt", o.Prompt);
        }

        /// <summary>Checks options as the Python API does, in its order and with its messages
        /// (the option declarations, then DialogueGenerator.validate and GptDecoder.validate).
        /// An archetype is checked against this model's roles only (Python first checks the
        /// roles of every shipped model).</summary>
        public void Validate(DialogueOptions o)
        {
            if (o == null) throw new ArgumentNullException(nameof(o));
            CheckDeclared(o, table.Tags["source"]);
            CheckRequest(o);
            // GptDecoder.validate
            var roles = new List<string> { "random", "any" };
            roles.AddRange(Roles);
            var checks = new[]
            {
                Tuple.Create("archetype", o.Archetype, (IList<string>)roles),
                Tuple.Create("source", o.Source, (IList<string>)table.Tags["source"]),
                Tuple.Create("race", o.Race, (IList<string>)table.Tags["race"]),
            };
            foreach (var c in checks)
                if (!c.Item3.Contains(c.Item2))
                    throw new InvalidOptionsException("option '" + c.Item1 + "' must be " + OneOf(c.Item3) + " for this model; got " + PyText.Repr(c.Item2), c.Item1, c.Item2);
            if (o.TopK > table.VocabSize)
                throw new InvalidOptionsException("option 'top_k' must be an integer from 0 to " + table.VocabSize + " (the model's vocabulary size); got " + o.TopK, "top_k", o.TopK);
            if (o.Prompt.Length > 0)
            {
                var ids = table.Encode(o.Prompt);
                if (ids.Contains(0))
                {
                    var known = new HashSet<string>(PyText.CodePoints(string.Concat(table.Pieces)));
                    // sorted by code point, as Python sorts a set of characters
                    var unknown = new SortedDictionary<int, string>();
                    foreach (string ch in PyText.CodePoints(o.Prompt))
                        if (!known.Contains(ch) && ch != " ") unknown[char.ConvertToUtf32(ch, 0)] = ch;
                    var shown = new List<string>();
                    foreach (string ch in unknown.Values) shown.Add(PyText.Repr(ch));
                    throw new InvalidOptionsException("option 'prompt' contains characters the model does not know: " + string.Join(", ", shown)
                        + "; it knows letters, digits and common punctuation (see pieces.json)", "prompt", o.Prompt);
                }
                if (ids.Count + 4 >= Context)
                    throw new InvalidOptionsException("option 'prompt' is " + ids.Count + " pieces long; the model reads at most " + (Context - 5), "prompt", o.Prompt);
            }
        }

        // -- tags ---------------------------------------------------------------------------

        static Dictionary<string, object> Sub(Dictionary<string, object> d, string key)
        {
            object v;
            return d != null && d.TryGetValue(key, out v) ? v as Dictionary<string, object> : null;
        }

        static long CountOf(Dictionary<string, object> d, string key)
        {
            object v;
            if (d == null || !d.TryGetValue(key, out v)) return 0;
            if (v is long l) return l;
            if (v is double x) return (long)x;
            return 0;
        }

        /// <summary>The role and length bucket of a seed (Python: GptDecoder.resolve).</summary>
        public Dictionary<string, string> Resolve(long seed, DialogueOptions o)
        {
            var rng = new SeedStream(seed, "dialogue.tags");
            double roleDraw = rng.NextDouble();
            double lengthDraw = rng.NextDouble();
            string source = o.Source;
            string role = o.Archetype;
            if (role == "random")
            {
                var counts = Sub(Sub(manifest, "role_lines"), source);
                var pool = new List<string>();
                foreach (string r in Roles) if (CountOf(counts, r) >= MinRoleLines) pool.Add(r);
                if (pool.Count == 0) pool.AddRange(Roles);
                role = pool[Math.Min((int)(roleDraw * pool.Count), pool.Count - 1)];
            }
            string length = o.Length;
            if (length == "random")
            {
                var perSource = Sub(Sub(manifest, "length_counts"), source);
                var counts = Sub(perSource, role);
                Dictionary<string, object> summed = null;
                if (counts == null || counts.Count == 0)
                {
                    summed = new Dictionary<string, object>(StringComparer.Ordinal);
                    if (perSource != null)
                        foreach (var c in perSource.Values)
                        {
                            var cd = c as Dictionary<string, object>;
                            if (cd == null) continue;
                            foreach (var kv in cd) summed[kv.Key] = CountOf(summed, kv.Key) + CountOf(cd, kv.Key);
                        }
                    counts = summed;
                }
                var buckets = new List<string>();
                foreach (string b in lengthBuckets.Keys) if (CountOf(counts, b) > 0) buckets.Add(b);
                if (buckets.Count == 0) length = "any";
                else
                {
                    var weights = new double[buckets.Count];
                    for (int i = 0; i < weights.Length; i++) weights[i] = CountOf(counts, buckets[i]);
                    double[] running = SeedStream.RunningSum(weights);
                    double total = NumpyMath.Sum(weights);
                    int right = 0;
                    for (int i = 0; i < running.Length; i++)
                    {
                        double cdf = running[i] / total;
                        if (cdf <= lengthDraw) right++;
                    }
                    length = buckets[Math.Min(right, buckets.Count - 1)];
                }
            }
            return new Dictionary<string, string> { { "source", source }, { "role", role }, { "race", o.Race }, { "length", length } };
        }

        // -- sampling -----------------------------------------------------------------------

        WordMask MaskFor(string source, DialogueOptions o)
        {
            List<string> list;
            if (!o.SourceWords || !sourceWordLists.TryGetValue(source, out list)) return mask;
            WordMask m;
            if (!sourceMasks.TryGetValue(source, out m))
            {
                m = new WordMask(list, table);
                sourceMasks[source] = m;
            }
            return m;
        }

        /// <summary>log-softmax of one row, as numpy: z - max, then z - log(sum(exp(z)))
        /// (the sum pairwise), into <paramref name="z"/> (returned); <paramref name="e"/> is
        /// scratch. Both are <paramref name="width"/> long.</summary>
        internal static double[] LogSoftmax(float[] logits, int row, int width, double[] z, double[] e)
        {
            int at = row * width;
            double max = double.NegativeInfinity;
            for (int i = 0; i < width; i++)
            {
                double v = logits[at + i];
                if (v > max || i == 0) max = v;
            }
            for (int i = 0; i < width; i++)
            {
                double v = logits[at + i];
                z[i] = v - max;
                e[i] = Math.Exp(z[i]);
            }
            double s = NumpyMath.Sum(e);
            double log = Math.Log(s);
            for (int i = 0; i < width; i++) z[i] = z[i] - log;
            return z;
        }

        /// <summary>One token id (Python: plugin.sample_token): temperature, then top-k,
        /// then top-p, one uniform draw.</summary>
        public static int SampleToken(double[] logits, SeedStream rng, double temperature, int topK, double topP)
        {
            return SampleToken(logits, rng, temperature, topK, topP, new SamplingScratch(logits.Length));
        }

        /// <summary>The arrays one sampling fills, made once per batch of candidates and reused
        /// for every piece (in Mono, arrays of a vocabulary's doubles are large objects, slow to
        /// allocate and only freed by a full collection).</summary>
        internal sealed class SamplingScratch
        {
            public readonly double[] Z, P, Sorted, Cdf;
            public readonly int[] Heap;
            public readonly bool[] Keep;

            public SamplingScratch(int n)
            {
                Z = new double[n];
                P = new double[n];
                Sorted = new double[n];
                Cdf = new double[n];
                Heap = new int[n];
                Keep = new bool[n];
            }
        }

        internal static int SampleToken(double[] logits, SeedStream rng, double temperature, int topK, double topP, SamplingScratch scratch)
        {
            int n = logits.Length;
            double[] z = scratch.Z;
            for (int i = 0; i < n; i++) z[i] = logits[i] / temperature;
            if (0 < topK && topK < n)
            {
                double[] sorted = scratch.Sorted;
                Array.Copy(z, sorted, n);
                Array.Sort(sorted);
                double kth = sorted[n - topK];
                for (int i = 0; i < n; i++) if (z[i] < kth) z[i] = double.NegativeInfinity;
            }
            double max = z[0];
            for (int i = 1; i < n; i++) if (z[i] > max) max = z[i];
            double[] p = scratch.P;
            for (int i = 0; i < n; i++)
            {
                double shifted = z[i] - max;
                p[i] = double.IsNegativeInfinity(shifted) ? 0.0 : Math.Exp(shifted);
            }
            double total = NumpyMath.Sum(p);
            for (int i = 0; i < n; i++) p[i] = p[i] / total;
            if (topP < 1.0)
            {
                // np.argsort(-p, kind="stable"), cumsum, searchsorted(left), the likeliest
                // kept up to the one that crosses top_p: the entries are taken in that order
                // from a heap (p descending, index ascending) until the running sum crosses
                // top_p; the zeros (after every p > 0 in the stable order) never matter
                int[] heap = scratch.Heap;
                int m = 0;
                for (int i = 0; i < n; i++) if (p[i] > 0.0) heap[m++] = i;
                int size = m;
                for (int i = size / 2 - 1; i >= 0; i--) SiftDown(heap, size, i, p);
                bool[] keep = scratch.Keep;
                Array.Clear(keep, 0, n);
                double cum = 0.0;
                bool first = true;
                while (size > 0)
                {
                    int top = heap[0];
                    size--;
                    heap[0] = heap[size];
                    SiftDown(heap, size, 0, p);
                    cum = first ? p[top] : cum + p[top];
                    first = false;
                    keep[top] = true;
                    if (cum >= topP) break;
                }
                for (int i = 0; i < n; i++) if (!keep[i]) p[i] = 0.0;
                total = NumpyMath.Sum(p);
                for (int i = 0; i < n; i++) p[i] = p[i] / total;
            }
            double[] cdf = scratch.Cdf;
            double run = 0.0;
            for (int i = 0; i < n; i++)
            {
                run = i == 0 ? p[0] : run + p[i];
                cdf[i] = run;
            }
            return SeedStream.Pick(cdf, rng.NextDouble());
        }

        // a max-heap of indices: larger p first, then the smaller index
        static bool Before(int a, int b, double[] p)
        {
            return p[a] > p[b] || (p[a] == p[b] && a < b);
        }

        static void SiftDown(int[] heap, int size, int at, double[] p)
        {
            while (true)
            {
                int left = 2 * at + 1;
                if (left >= size) return;
                int best = left;
                int right = left + 1;
                if (right < size && Before(heap[right], heap[left], p)) best = right;
                if (!Before(heap[best], heap[at], p)) return;
                int t = heap[at];
                heap[at] = heap[best];
                heap[best] = t;
                at = best;
            }
        }

        static string LastChars(string text, int count)
        {
            return text.Length <= count ? text : text.Substring(text.Length - count);
        }

        List<DialogueCandidate> Sample(long seed, DialogueOptions o, Dictionary<string, string> tags, List<int> prefix,
            string purpose, int[] indices, int keep, string state, bool untilSentence, double temperature)
        {
            var t = table;
            int n = indices.Length;
            double guidance = o.ArchetypeGuidance;
            WordMask wm = o.WordMask ? MaskFor(tags["source"], o) : null;
            int[] cond = t.Conditioning(tags["source"], tags["role"], tags["race"], tags["length"]);
            int rows = guidance > 0 ? 2 * n : n;
            int vocab = t.VocabSize;
            using (var steps = new StepRunner(folder.Session(Graph), Graph, rows, Layers, Heads, HeadDim, vocab))
            {
                float[] logits = null;
                // one set of vocabulary-sized arrays for every candidate and piece
                double[] logpBuffer = new double[vocab], otherBuffer = new double[vocab], expBuffer = new double[vocab];
                double[] guidedBuffer = new double[vocab], maskedBuffer = new double[vocab];
                var scratch = new SamplingScratch(vocab);
                int anyRole = t.Tag("role", "any");
                var feedAll = new List<int>(cond);
                feedAll.AddRange(prefix);
                for (int pos = 0; pos < feedAll.Count; pos++)
                {
                    var feed = new long[rows];
                    for (int r = 0; r < rows; r++) feed[r] = feedAll[pos];
                    if (guidance > 0 && pos == 1) for (int r = n; r < rows; r++) feed[r] = anyRole;
                    logits = steps.Step(feed);
                }
                var rngs = new SeedStream[n];
                for (int k = 0; k < n; k++) rngs[k] = new SeedStream(seed, purpose, indices[k]);
                string[] texts = mask.Texts;
                var states = new string[n];
                var outs = new List<int>[n];
                var logps = new List<double>[n];
                var stops = new string[n];
                var alive = new bool[n];
                var chars = new int[n];
                var tails = new string[n];
                string prefixText = t.Decode(prefix);
                int room = o.MaxChars - keep;
                for (int k = 0; k < n; k++)
                {
                    states[k] = state;
                    outs[k] = new List<int>();
                    logps[k] = new List<double>();
                    stops[k] = room <= 0 ? "max_chars" : "context";
                    alive[k] = room > 0;
                    tails[k] = LastChars(prefixText, 3);
                }
                int position = cond.Length + prefix.Count;
                while (Array.IndexOf(alive, true) >= 0)
                {
                    var feed = new long[rows];
                    for (int r = 0; r < rows; r++) feed[r] = t.Pad;
                    for (int k = 0; k < n; k++)
                    {
                        if (!alive[k]) continue;
                        double[] logp = LogSoftmax(logits, k, vocab, logpBuffer, expBuffer);
                        double[] z = logp;
                        if (guidance > 0)
                        {
                            double[] other = LogSoftmax(logits, n + k, vocab, otherBuffer, expBuffer);
                            z = guidedBuffer;
                            for (int i = 0; i < vocab; i++)
                            {
                                double diff = logp[i] - other[i];
                                double push = guidance * diff;
                                z[i] = logp[i] + push;
                            }
                        }
                        bool[] allowed = wm != null ? LineRules(wm.Allowed(states[k]), outs[k], prefix) : openVocab;
                        double[] zk = maskedBuffer;
                        for (int i = 0; i < vocab; i++) zk[i] = allowed[i] ? z[i] : double.NegativeInfinity;
                        int token = SampleToken(zk, rngs[k], temperature, o.TopK, o.TopP, scratch);
                        if (token == t.Eos)
                        {
                            logps[k].Add(logp[token]);
                            alive[k] = false;
                            stops[k] = "eos";
                            continue;
                        }
                        if (untilSentence && outs[k].Count > 0 && texts[token].StartsWith(" ", StringComparison.Ordinal) && SentenceEnd.IsMatch(tails[k]))
                        {
                            alive[k] = false;
                            stops[k] = "sentence";
                            continue;
                        }
                        logps[k].Add(logp[token]);
                        outs[k].Add(token);
                        tails[k] = LastChars(tails[k] + texts[token], 3);
                        if (wm != null) states[k] = wm.StateAfter(states[k], token);
                        chars[k] += texts[token].Length;
                        if (chars[k] >= room)
                        {
                            alive[k] = false;
                            stops[k] = "max_chars";
                            continue;
                        }
                        feed[k] = token;
                        if (guidance > 0) feed[n + k] = token;
                    }
                    position++;
                    if (Array.IndexOf(alive, true) < 0) break;
                    if (position >= Context) break;
                    logits = steps.Step(feed);
                }
                var found = new List<DialogueCandidate>();
                for (int k = 0; k < n; k++)
                {
                    var all = new List<int>(prefix);
                    all.AddRange(outs[k]);
                    string text = t.Decode(all);
                    if (text.Length > o.MaxChars) text = text.Substring(0, o.MaxChars);
                    text = PyStr.RStrip(text);
                    int cut = text.LastIndexOf('{');
                    if (cut >= keep && cut > text.LastIndexOf('}')) text = PyStr.RStrip(text.Substring(0, cut));
                    if (stops[k] != "eos" && stops[k] != "sentence" && wm != null) text = DropOpenWord(text, keep, wm);
                    found.Add(new DialogueCandidate { Text = text, Logprobs = logps[k].ToArray(), Stop = stops[k], Pieces = outs[k] });
                }
                return found;
            }
        }

        bool[] LineRules(bool[] allowed, List<int> output, List<int> prompt)
        {
            var t = table;
            if (output.Count == 0 && prompt.Count == 0)
            {
                var first = new bool[allowed.Length];
                bool any = false;
                for (int i = 0; i < allowed.Length; i++)
                {
                    first[i] = allowed[i] && firstOk[i];
                    any |= first[i];
                }
                return any ? first : allowed;
            }
            int last = output.Count > 0 ? output[output.Count - 1] : prompt[prompt.Count - 1];
            string trimmed = PyStr.RStrip(mask.Texts[last]);
            // Python: text.rstrip()[-1:] in LINE_END, and "" is in every string
            bool ends = trimmed.Length == 0 || LineEnd.IndexOf(trimmed[trimmed.Length - 1]) >= 0 || t.Kinds[last] == "user";
            if (allowed[t.Eos] && !ends)
            {
                allowed = (bool[])allowed.Clone();
                allowed[t.Eos] = false;
                if (Array.IndexOf(allowed, true) < 0) allowed[t.Eos] = true;
            }
            return allowed;
        }

        static string DropOpenWord(string text, int keep, WordMask wm)
        {
            int end = text.Length;
            while (end > keep && PyStr.IsWordChar(text[end - 1])) end--;
            string word = text.Substring(end);
            if (word.Length > 0 && !wm.Complete(word)) return PyStr.RStrip(text.Substring(0, Math.Max(end, keep)));
            return text;
        }

        string PromptState(string prompt)
        {
            if (prompt.Length == 0 || !PyStr.IsWordChar(prompt[prompt.Length - 1])) return "";
            string word = "";
            for (int i = prompt.Length - 1; i >= 0; i--)
            {
                char ch = prompt[i];
                if (!PyStr.IsWordChar(ch)) break;
                word = PyStr.Lower(ch.ToString()) + word;
            }
            return mask.IsPrefix(word) ? word : "";
        }

        // -- choosing -----------------------------------------------------------------------

        int Floor(DialogueOptions o, string length)
        {
            if (o.MinChars >= 0) return o.MinChars;
            return BucketEnd(length, 0) ?? 0;
        }

        int? BucketEnd(string length, int end)
        {
            object b;
            if (!lengthBuckets.TryGetValue(length, out b)) return null;
            var list = b as List<object>;
            if (list == null || list.Count <= end) return null;
            return (int)ManifestFields.Number(list[end], "length_buckets." + length);
        }

        double[] Scores(List<DialogueCandidate> found, string how, double[] before)
        {
            var lps = new double[found.Count][];
            var likelihood = new double[found.Count];
            for (int k = 0; k < found.Count; k++)
            {
                lps[k] = before == null ? found[k].Logprobs : NumpyMath.Concat(before, found[k].Logprobs);
                likelihood[k] = lps[k].Length > 0 ? NumpyMath.Mean(lps[k]) : -1e9;
            }
            DialogueScorer scorer;
            if (!scorers.TryGetValue(how == "mixed" ? "learned" : how, out scorer)) return likelihood;
            var learned = new double[found.Count];
            for (int k = 0; k < found.Count; k++) learned[k] = scorer.Logit(scorer.Row(found[k].Text, lps[k], words));
            if (how != "mixed") return learned;
            // the learned scorer, among the likelier half of the candidates only
            double median = NumpyMath.Median(likelihood);
            var mixed = new double[found.Count];
            for (int k = 0; k < found.Count; k++) mixed[k] = likelihood[k] >= median ? learned[k] : learned[k] - 1e6;
            return mixed;
        }

        static int Best(List<int> eligible, double[] scores)
        {
            int best = eligible[0];
            foreach (int k in eligible)
                if (scores[k] > scores[best] || (scores[k] == scores[best] && k < best)) best = k;
            return best;
        }

        static bool Subset(List<string> a, HashSet<string> had)
        {
            foreach (string x in a) if (!had.Contains(x)) return false;
            return true;
        }

        sealed class Choice
        {
            public DialogueCandidate Chosen;
            public List<DialogueCandidate> Found;
            public int Best;
            public double[] Scores;
            public int Sentences;
            public int Rounds = 1;
        }

        /// <summary>A probability option as a scorer logit (Python: GptDecoder.logit): -inf for
        /// 0, +inf for 1, so the search compares logits and never rounds a probability.</summary>
        static double Logit(double p)
        {
            if (p <= 0.0) return double.NegativeInfinity;
            if (p >= 1.0) return double.PositiveInfinity;
            return Math.Log(p / (1.0 - p));
        }

        /// <summary>The one-pass decoding (Python: GptDecoder._whole_lines): rounds of N
        /// candidates (round r: streams "dialogue.candidate", N r + k, a batch of its own N
        /// rows) until the best one that passes the length floor and the line checks scores at
        /// least Accept (only with a scorer that gives a probability: judged or learned, its
        /// file present, and N above 1), the best scores below GiveUp, or Rounds rounds were
        /// sampled. The best of all candidates so far is kept (ties to the lowest
        /// index).</summary>
        Choice WholeLines(long seed, DialogueOptions o, Dictionary<string, string> tags)
        {
            int n = o.Candidates;
            bool probability = ScorerFiles.ContainsKey(o.Rerank) && scorers.ContainsKey(o.Rerank);
            int rounds = n > 1 && probability ? o.Rounds : 1;
            double accept = Logit(o.Accept), giveUp = Logit(o.GiveUp);
            var prefix = o.Prompt.Length > 0 ? table.Encode(o.Prompt) : new List<int>();
            string state = PromptState(o.Prompt);
            int floor = Floor(o, tags["length"]);
            var found = new List<DialogueCandidate>();
            var passes = new List<bool>(); // each candidate's line checks, made once
            double[] scores = new double[0];
            int best = 0, sampled = 0;
            for (int r = 0; r < rounds; r++)
            {
                sampled = r + 1;
                var indices = new int[n];
                for (int k = 0; k < n; k++) indices[k] = n * r + k;
                var more = Sample(seed, o, tags, prefix, "dialogue.candidate", indices, o.Prompt.Length, state, false, o.Temperature);
                found.AddRange(more);
                if (o.Filters)
                    foreach (var c in more)
                        passes.Add(DialogueRerank.Faults(c.Text, o.SlipChecks).Count == 0 && !Copied(c.Text));
                scores = NumpyMath.Concat(scores, n > 1 ? Scores(more, o.Rerank, null) : new double[more.Count]);
                var all = new List<int>();
                for (int k = 0; k < found.Count; k++) all.Add(k);
                var longEnough = all.FindAll(k => found[k].Text.Length >= floor);
                var eligible = longEnough.Count > 0 ? longEnough : all;
                bool clean = longEnough.Count > 0;
                if (o.Filters)
                {
                    var passing = eligible.FindAll(k => passes[k]);
                    clean = clean && passing.Count > 0;
                    if (passing.Count > 0) eligible = passing;
                }
                best = Best(eligible, scores);
                if ((clean && scores[best] >= accept) || scores[best] < giveUp) break;
            }
            return new Choice { Chosen = found[best], Found = found, Best = best, Scores = scores, Rounds = sampled };
        }

        Choice BySentences(long seed, DialogueOptions o, Dictionary<string, string> tags)
        {
            int floor = Floor(o, tags["length"]);
            int? bucketTop = BucketEnd(tags["length"], 1);
            int upper = Math.Min(bucketTop ?? o.MaxChars, o.MaxChars);
            int n = o.Candidates;
            var prefix = o.Prompt.Length > 0 ? table.Encode(o.Prompt) : new List<int>();
            var before = new double[0];
            string state = PromptState(o.Prompt);
            var chosen = new DialogueCandidate { Text = o.Prompt, Logprobs = before, Stop = "eos", Pieces = new List<int>() };
            var last = new Choice { Found = new List<DialogueCandidate> { chosen }, Best = 0, Scores = new double[1] };
            Func<int, Choice> done = r => new Choice { Chosen = chosen, Found = last.Found, Best = last.Best, Scores = last.Scores, Sentences = r };
            for (int r = 0; r < MaxSentences; r++)
            {
                bool later = r > 0 && o.SentenceTemperature > 0;
                var indices = new int[n];
                for (int k = 0; k < n; k++) indices[k] = 64 * r + k;
                var found = Sample(seed, o, tags, prefix, "dialogue.sentence", indices,
                    r == 0 ? o.Prompt.Length : chosen.Text.Length, r == 0 ? state : "", true,
                    later ? o.SentenceTemperature : o.Temperature);
                double[] scores = Scores(found, o.SentenceRerank, before);
                var all = new List<int>();
                for (int k = 0; k < n; k++) all.Add(k);
                var ended = all.FindAll(k => found[k].Stop == "eos" || found[k].Stop == "sentence");
                if (ended.Count == 0 && r > 0) return done(r);
                var eligible = ended.Count > 0 ? ended : all;
                var e1 = eligible.FindAll(k => found[k].Stop == "sentence" || found[k].Text.Length >= floor);
                eligible = e1.Count > 0 ? e1 : eligible;
                var e2 = eligible.FindAll(k => found[k].Text.Length <= upper);
                eligible = e2.Count > 0 ? e2 : eligible;
                if (o.Filters)
                {
                    var had = new HashSet<string>(DialogueRerank.Faults(chosen.Text, o.SlipChecks), StringComparer.Ordinal);
                    var clean = eligible.FindAll(k => Subset(DialogueRerank.Faults(found[k].Text, o.SlipChecks), had)
                        && !(Copied(found[k].Text) && Ends(found[k], floor)));
                    if (clean.Count == 0 && r > 0) return done(r);
                    eligible = clean.Count > 0 ? clean : eligible;
                }
                int best = Best(eligible, scores);
                var pick = found[best];
                last = new Choice { Found = found, Best = best, Scores = scores };
                before = NumpyMath.Concat(before, pick.Logprobs);
                var pieces = new List<int>(chosen.Pieces);
                pieces.AddRange(pick.Pieces);
                chosen = new DialogueCandidate { Text = pick.Text, Logprobs = before, Stop = pick.Stop, Pieces = pieces };
                prefix = new List<int>(prefix);
                prefix.AddRange(pick.Pieces);
                if (pick.Stop != "sentence" || pick.Text.Length >= floor || pick.Pieces.Count == 0) return done(r + 1);
            }
            return done(MaxSentences);
        }

        /// <summary>The hashes of data_lines.json; a list that is empty or holds anything but
        /// 16-digit lower-case hexadecimal hashes is refused (Python says the same).</summary>
        void ReadDataLines(byte[] bytes)
        {
            const string bad = "data_lines.json: field 'lines' must hold 16-digit hexadecimal hashes";
            object lines = null;
            try
            {
                var doc = Json.Parse(Encoding.UTF8.GetString(bytes)) as Dictionary<string, object>;
                if (doc != null) doc.TryGetValue("lines", out lines);
            }
            catch (Exception) { lines = null; }
            if (lines == null) throw new ModelException("data_lines.json: field 'lines' is missing or not JSON");
            var list = lines as List<object>;
            if (list == null) throw new ModelException(bad);
            foreach (object h in list)
            {
                var s = h as string;
                ulong v;
                if (s == null || s.Length != 16 || !IsLowerHex(s)
                    || !ulong.TryParse(s, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out v))
                    throw new ModelException(bad);
                dataLines.Add(v);
            }
            if (list.Count == 0) throw new ModelException("data_lines.json: field 'lines' holds no hashes");
        }

        static bool IsLowerHex(string s)
        {
            foreach (char c in s) if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            return true;
        }

        /// <summary>Whether the text is a line of the model's data set word for word.</summary>
        bool Copied(string text)
        {
            return dataLines.Count > 0 && dataLines.Contains(SeedStream.Fnv1a64(text));
        }

        /// <summary>Whether choosing this sentence candidate ends the line.</summary>
        static bool Ends(DialogueCandidate c, int floor)
        {
            return c.Stop != "sentence" || c.Text.Length >= floor || c.Pieces.Count == 0;
        }

        /// <summary>One line (Python: Engine().generate("dialogue", seed=seed, **options)).</summary>
        public DialogueLine Generate(long seed, DialogueOptions options = null)
        {
            return GenerateBatch(new[] { seed }, options)[0];
        }

        /// <summary>Lines of several seeds, each made alone (its line does not depend on the
        /// batch).</summary>
        public List<DialogueLine> GenerateBatch(IList<long> seeds, DialogueOptions options = null)
        {
            return DialogueBatch.Lines(seeds, options, Validate, Line);
        }

        DialogueLine Line(long seed, DialogueOptions o)
        {
            var tags = Resolve(seed, o);
            int sentences = 1;
            Choice c;
            if (o.BySentence && o.Candidates > 1 && (tags["length"] == "medium" || tags["length"] == "long"))
            {
                c = BySentences(seed, o, tags);
                sentences = c.Sentences;
            }
            else c = WholeLines(seed, o, tags);
            string text = c.Chosen.Text;
            var placeholders = new List<string>();
            foreach (string p in new[] { "{NAME}", "{PLACE}" }) if (text.Contains(p)) placeholders.Add(p);
            if (o.Name.Length > 0) text = text.Replace("{NAME}", o.Name);
            if (o.Place.Length > 0) text = text.Replace("{PLACE}", o.Place);
            return new DialogueLine
            {
                Seed = seed,
                Text = text,
                Speaker = o.Name.Length > 0 ? o.Name : tags["role"],
                Archetype = tags["role"],
                Source = tags["source"],
                Race = tags["race"],
                Length = tags["length"],
                Stop = c.Chosen.Stop,
                Candidates = c.Found.Count,
                Chosen = c.Best,
                Score = c.Scores[c.Best],
                Placeholders = placeholders,
                Faults = DialogueRerank.Faults(c.Chosen.Text, o.SlipChecks),
                Sentences = sentences,
                Rounds = c.Rounds,
                License = License,
            };
        }

        public void Dispose()
        {
            folder.Dispose();
        }
    }
    /// <summary>The step graph run step after step on a batch of rows. The key/value cache
    /// stays in ONNX Runtime's memory: each step's present_key / present_value outputs are the
    /// next step's past_key / past_value inputs as they are, never copied into managed arrays
    /// and back (as in Python, whose numpy arrays onnxruntime makes over its own output
    /// memory; the values are those a copy would hold, so the logits are the same). The tokens
    /// go in through one pinned array and the logits come out into one array, both reused
    /// every step.</summary>
    sealed class StepRunner : IDisposable
    {
        static readonly string[] InputNames = { "token", "past_key", "past_value" };
        readonly OnnxSession session;
        readonly string graph;
        readonly int rows, vocab;
        readonly long[] tokens;
        readonly float[] logits;
        readonly OnnxValue[] inputs = new OnnxValue[3];

        public StepRunner(OnnxSession session, string graph, int rows, int layers, int heads, int headDim, int vocab)
        {
            this.session = session;
            this.graph = graph;
            this.rows = rows;
            this.vocab = vocab;
            tokens = new long[rows];
            logits = new float[(long)rows * vocab];
            try
            {
                inputs[0] = OnnxValue.Over(new Tensor(new long[] { rows }, tokens));
                var empty = new long[] { layers, rows, heads, 0, headDim };
                inputs[1] = OnnxValue.Over(new Tensor(empty, new float[0]));
                inputs[2] = OnnxValue.Over(new Tensor(empty, new float[0]));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>One step: the rows' tokens in, the rows' logits out (rows x vocab, in a
        /// buffer the next step overwrites); the cache grows by one position.</summary>
        public float[] Step(long[] feed)
        {
            Array.Copy(feed, tokens, rows);
            OnnxValue[] outputs = session.RunValues(InputNames, inputs);
            try
            {
                OnnxValue lg = outputs[0];
                if (lg.Shape.Length != 2 || lg.Shape[1] != vocab)
                    throw new ModelException(graph + ": output '" + session.OutputNames[0] + "' has shape [" + string.Join(", ", lg.Shape) + "]; pieces.json and the tags make " + vocab + " tokens");
                lg.CopyTo(logits);
            }
            catch
            {
                foreach (var v in outputs) v.Dispose();
                throw;
            }
            outputs[0].Dispose();
            inputs[1].Dispose();
            inputs[2].Dispose();
            inputs[1] = outputs[1];
            inputs[2] = outputs[2];
            return logits;
        }

        public void Dispose()
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i] != null) inputs[i].Dispose();
                inputs[i] = null;
            }
        }
    }
}
