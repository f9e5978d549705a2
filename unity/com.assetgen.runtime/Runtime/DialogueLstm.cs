// The character-LSTM dialogue model in C# (Python: plugins/assetgen_dialogue/plugin.py,
// DialogueGenerator.parse_model, validate and _line): the public-domain Shakespeare model
// (shakespeare_model/: dialogue_step.onnx, vocab.json), for games that cannot ship the GPT's
// GPL-trained text. One line:
//
// 1. SeedStream(seed, "dialogue.line") draws the archetype (always, so naming one keeps the
//    sampling stream of the seed);
// 2. <bos>, then the prompt's characters, go through the step graph (char, archetype, h, c ->
//    logits, h_out, c_out), the LSTM state carried from step to step in ONNX Runtime's memory;
//    with archetype_guidance one batch: the requested archetype, then every archetype, and the
//    logits pushed away from the mean of their log-softmax;
// 3. characters are drawn with the GPT's SampleToken (pad and bos banned) until <eos>, a
//    newline or max_chars; the text is the prompt plus what was drawn, trailing white space
//    cut.
//
// Lines are made one at a time (a batch of lines could round a matrix product differently
// and flip a character), as in Python. Sizes (layers, hidden, vocabulary, archetypes) come
// from the graph, the manifest and vocab.json; nothing of the shipped model is compiled in.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>Lines of a character-LSTM dialogue model (a manifest without "architecture":
    /// "gpt", e.g. the shipped Shakespeare model; Python: <c>-o model=shakespeare</c>). The
    /// options are <see cref="DialogueOptions"/>: archetype, temperature, top_k, top_p,
    /// max_chars, prompt and archetype_guidance apply; the GPT-only ones (source, race,
    /// length, candidates, rerank, min_chars, filters, slip_checks, word_mask, source_words,
    /// by_sentence, sentence_rerank, sentence_temperature, name, place) are checked as Python
    /// checks their declarations, then ignored. A line's Text, Speaker (the archetype),
    /// Archetype and Stop (eos, newline or max_chars) are Python's text, speaker and metadata;
    /// Source, Race and Length are null, Candidates 1, Chosen 0, Score NaN, Sentences 1,
    /// Placeholders and Faults empty.</summary>
    public sealed class DialogueLstmGenerator : IDialogueGenerator
    {
        public const string Graph = "dialogue_step.onnx";
        public const string VocabFile = "vocab.json";
        static readonly string[] InputNames = { "char", "archetype", "h", "c" };

        readonly ModelFolder folder;
        readonly string[] tokens;
        readonly Dictionary<string, int> index = new Dictionary<string, int>(StringComparer.Ordinal);
        readonly int logitsAt, hAt, cAt;

        public ModelFolder Folder => folder;
        /// <summary>The archetypes of vocab.json, in its order (the graph's archetype ids).</summary>
        public IReadOnlyList<string> Roles { get; }
        /// <summary>The tokens of vocab.json (one character each, but the special ones).</summary>
        public IReadOnlyList<string> Tokens => tokens;
        public int VocabSize => tokens.Length;
        public int Pad { get; }
        public int Bos { get; }
        public int Eos { get; }
        public int Layers { get; }
        public int Hidden { get; }
        public string License { get; }

        public DialogueLstmGenerator(string modelDirectory, SessionSettings settings = null)
            : this(new ModelFolder(modelDirectory, settings))
        {
        }

        /// <summary>A generator on an already verified model folder; it disposes the folder.</summary>
        public DialogueLstmGenerator(ModelFolder model)
        {
            folder = model ?? throw new ArgumentNullException(nameof(model));
            try
            {
                var manifest = folder.Manifest;
                if (DialogueGenerator.IsGpt(manifest))
                    throw ManifestFields.Bad("architecture", "is 'gpt': this is the subword GPT; open it with DialogueGenerator or DialogueGenerator.Open");
                var doc = ManifestFields.Object(Json.Parse(Encoding.UTF8.GetString(folder.ReadFile(VocabFile))), VocabFile);
                var list = ManifestFields.Array(ManifestFields.Get(doc, "tokens", "tokens"), "tokens");
                tokens = new string[list.Count];
                for (int i = 0; i < tokens.Length; i++)
                {
                    tokens[i] = ManifestFields.String(list[i], "tokens");
                    index[tokens[i]] = i;   // Python's dict: a later duplicate wins
                }
                var special = ManifestFields.Object(ManifestFields.Get(doc, "special", "special"), "special");
                Pad = TokenId(special, "pad");
                Bos = TokenId(special, "bos");
                Eos = TokenId(special, "eos");
                var roles = new List<string>();
                foreach (object a in ManifestFields.Array(ManifestFields.Get(doc, "archetypes", "archetypes"), "archetypes"))
                    roles.Add(ManifestFields.String(a, "archetypes"));
                if (roles.Count == 0) throw ManifestFields.Bad("archetypes", "is empty", VocabFile);
                Roles = roles;
                object license;
                License = manifest.TryGetValue("license", out license) && license is string ? (string)license : "";
                // the state's shape from the graph (h, c: layers, batch, hidden), else the manifest
                var session = folder.Session(Graph);
                long[] h;
                foreach (string name in InputNames)
                    if (!session.InputShapes.ContainsKey(name))
                        throw new ModelException(Graph + " has no inputs 'char', 'archetype', 'h' and 'c'; the manifest describes another model");
                h = session.InputShapes["h"];
                if (h.Length != 3)
                    throw new ModelException(Graph + ": input 'h' has " + h.Length + " dimensions, not 3 (layers, batch, hidden)");
                Layers = h[0] > 0 ? (int)h[0] : ManifestFields.NonNegativeInt(manifest, "layers");
                Hidden = h[2] > 0 ? (int)h[2] : ManifestFields.NonNegativeInt(manifest, "hidden");
                CheckSize(manifest, "layers", Layers);
                CheckSize(manifest, "hidden", Hidden);
                object vocab;
                if (manifest.TryGetValue("vocab_size", out vocab) && vocab is long && (long)vocab != tokens.Length)
                    throw ManifestFields.Bad("vocab_size", "is " + vocab + "; " + VocabFile + " has " + tokens.Length + " tokens");
                logitsAt = Output(session, "logits");
                hAt = Output(session, "h_out");
                cAt = Output(session, "c_out");
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }

        int TokenId(Dictionary<string, object> special, string name)
        {
            double v = ManifestFields.Number(ManifestFields.Get(special, name, "special." + name), "special." + name);
            if (v < 0 || v >= tokens.Length || v != Math.Floor(v))
                throw ManifestFields.Bad("special." + name, "must be a token id from 0 to " + (tokens.Length - 1) + "; got " + PyText.Repr(v), VocabFile);
            return (int)v;
        }

        static void CheckSize(Dictionary<string, object> manifest, string field, int fromGraph)
        {
            object value;
            if (manifest.TryGetValue(field, out value) && value is long && (long)value != fromGraph)
                throw ManifestFields.Bad(field, "is " + value + "; " + Graph + " has " + fromGraph);
        }

        static int Output(OnnxSession session, string name)
        {
            for (int i = 0; i < session.OutputNames.Count; i++) if (session.OutputNames[i] == name) return i;
            throw new ModelException(Graph + " has no output '" + name + "' (it needs 'logits', 'h_out' and 'c_out')");
        }


        /// <summary>Checks options as the Python API does, in its order and with its messages
        /// (the option declarations, then DialogueGenerator.validate's LSTM branch). An
        /// archetype is checked against this model's archetypes only and the source (ignored by
        /// this model) not against a list: Python first checks both against every shipped
        /// model's.</summary>
        public void Validate(DialogueOptions o)
        {
            if (o == null) throw new ArgumentNullException(nameof(o));
            DialogueGenerator.CheckDeclared(o, null);
            DialogueGenerator.CheckRequest(o);
            var roles = new List<string> { "random" };
            roles.AddRange(Roles);
            if (!roles.Contains(o.Archetype))
                throw new InvalidOptionsException("option 'archetype' must be " + DialogueGenerator.OneOf(roles) + " for this model; got " + PyText.Repr(o.Archetype), "archetype", o.Archetype);
            if (o.TopK > tokens.Length)
                throw new InvalidOptionsException("option 'top_k' must be an integer from 0 to " + tokens.Length + " (the model's vocabulary size); got " + o.TopK, "top_k", o.TopK);
            // characters that are no token, or a special one; sorted by code point as Python sorts
            var unknown = new SortedDictionary<int, string>();
            foreach (string ch in PyText.CodePoints(o.Prompt))
            {
                int id;
                if (!index.TryGetValue(ch, out id) || id == Pad || id == Bos || id == Eos)
                    unknown[char.ConvertToUtf32(ch, 0)] = ch;
            }
            if (unknown.Count > 0)
            {
                var shown = new List<string>();
                foreach (string ch in unknown.Values) shown.Add(PyText.Repr(ch));
                throw new InvalidOptionsException("option 'prompt' contains characters the model does not know: " + string.Join(", ", shown)
                    + "; it knows letters, digits and common punctuation (see vocab.json)", "prompt", o.Prompt);
            }
        }

        /// <summary>One line (Python: Engine().generate("dialogue", seed=seed,
        /// model="shakespeare", ...)).</summary>
        public DialogueLine Generate(long seed, DialogueOptions options = null)
        {
            return GenerateBatch(new[] { seed }, options)[0];
        }

        /// <summary>Lines of several seeds, each made alone (one line per graph batch, as in
        /// Python, so a seed's line does not depend on the batch).</summary>
        public List<DialogueLine> GenerateBatch(IList<long> seeds, DialogueOptions options = null)
        {
            return DialogueBatch.Lines(seeds, options, Validate, Line);
        }

        DialogueLine Line(long seed, DialogueOptions o)
        {
            var rng = new SeedStream(seed, "dialogue.line");
            int drawn = rng.Below(Roles.Count);
            int archetype = o.Archetype == "random" ? drawn : IndexOf(Roles, o.Archetype);
            int newline;
            if (!index.TryGetValue("\n", out newline)) newline = -1;
            double guidance = o.ArchetypeGuidance;
            // with guidance, one batch: the requested archetype, then every archetype (their
            // mean is the "any speaker" reference the line is pushed away from)
            int rows = guidance > 0 ? 1 + Roles.Count : 1;
            var arch = new long[rows];
            arch[0] = archetype;
            for (int r = 1; r < rows; r++) arch[r] = r - 1;
            int vocab = tokens.Length;
            var scratch = new DialogueGenerator.SamplingScratch(vocab);
            double[] z = new double[vocab], logp = new double[vocab], other = new double[vocab], e = new double[vocab], mean = new double[vocab];
            using (var state = new LstmState(folder.Session(Graph), arch, Layers, Hidden, vocab, logitsAt, hAt, cAt))
            {
                Func<int, double[]> step = token =>
                {
                    float[] logits = state.Step(token);
                    if (guidance == 0)
                    {
                        for (int i = 0; i < vocab; i++) z[i] = logits[i];
                        return z;
                    }
                    DialogueGenerator.LogSoftmax(logits, 0, vocab, logp, e);
                    // logp[1:].mean(0): numpy adds the rows one after the other, then divides
                    for (int r = 1; r < rows; r++)
                    {
                        DialogueGenerator.LogSoftmax(logits, r, vocab, other, e);
                        for (int i = 0; i < vocab; i++) mean[i] = r == 1 ? other[i] : mean[i] + other[i];
                    }
                    double count = rows - 1;
                    for (int i = 0; i < vocab; i++)
                    {
                        double m = mean[i] / count;
                        double diff = logp[i] - m;
                        double push = guidance * diff;
                        z[i] = logp[i] + push;
                    }
                    return z;
                };
                double[] next = step(Bos);
                foreach (string ch in PyText.CodePoints(o.Prompt)) next = step(index[ch]);
                var output = new List<string>();
                string stop = "max_chars";
                int room = o.MaxChars - DialogueGenerator.StringInfoLength(o.Prompt);
                while (output.Count < room)
                {
                    // sample_token's banned ids: -inf before the temperature is the same -inf after
                    next[Pad] = double.NegativeInfinity;
                    next[Bos] = double.NegativeInfinity;
                    int token = DialogueGenerator.SampleToken(next, rng, o.Temperature, o.TopK, o.TopP, scratch);
                    if (token == Eos)
                    {
                        stop = "eos";
                        break;
                    }
                    if (token == newline)
                    {
                        stop = "newline";
                        break;
                    }
                    output.Add(tokens[token]);
                    if (output.Count < room) next = step(token);   // no step for a character that will not be drawn
                }
                string generated = string.Concat(output);
                string text = PyStr.Strip(generated).Length > 0 ? o.Prompt + PyStr.RStrip(generated) : o.Prompt;
                string name = Roles[archetype];
                return new DialogueLine
                {
                    Seed = seed,
                    Text = text,
                    Speaker = name,
                    Archetype = name,
                    Source = null,
                    Race = null,
                    Length = null,
                    Stop = stop,
                    Candidates = 1,
                    Chosen = 0,
                    Score = double.NaN,
                    Placeholders = new List<string>(),
                    Faults = new List<string>(),
                    Sentences = 1,
                    License = License,
                };
            }
        }

        static int IndexOf(IReadOnlyList<string> list, string value)
        {
            for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
            return -1;
        }

        public void Dispose()
        {
            folder.Dispose();
        }
    }

    /// <summary>The LSTM step graph run step after step on one batch of rows (the same
    /// character, one archetype each): h and c stay in ONNX Runtime's memory, each step's
    /// h_out / c_out the next step's h / c as they are; the logits come out into one array
    /// reused every step.</summary>
    sealed class LstmState : IDisposable
    {
        static readonly string[] InputNames = { "char", "archetype", "h", "c" };
        readonly OnnxSession session;
        readonly int rows, vocab, logitsAt, hAt, cAt;
        readonly long[] chars;
        readonly float[] logits;
        readonly OnnxValue[] inputs = new OnnxValue[4];

        public LstmState(OnnxSession session, long[] archetypes, int layers, int hidden, int vocab, int logitsAt, int hAt, int cAt)
        {
            this.session = session;
            rows = archetypes.Length;
            this.vocab = vocab;
            this.logitsAt = logitsAt;
            this.hAt = hAt;
            this.cAt = cAt;
            chars = new long[rows];
            logits = new float[(long)rows * vocab];
            try
            {
                var shape = new long[] { layers, rows, hidden };
                inputs[0] = OnnxValue.Over(new Tensor(new long[] { rows }, chars));
                inputs[1] = OnnxValue.Over(new Tensor(new long[] { rows }, (long[])archetypes.Clone()));
                inputs[2] = OnnxValue.Over(new Tensor(shape, new float[(long)layers * rows * hidden]));
                inputs[3] = OnnxValue.Over(new Tensor(shape, new float[(long)layers * rows * hidden]));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>One step: <paramref name="token"/> in every row, the rows' logits out
        /// (rows x vocab, in a buffer the next step overwrites).</summary>
        public float[] Step(int token)
        {
            for (int r = 0; r < rows; r++) chars[r] = token;
            OnnxValue[] outputs = session.RunValues(InputNames, inputs);
            try
            {
                OnnxValue lg = outputs[logitsAt];
                if (lg.Shape.Length != 2 || lg.Shape[0] != rows || lg.Shape[1] != vocab)
                    throw new ModelException(DialogueLstmGenerator.Graph + ": output 'logits' has shape [" + string.Join(", ", lg.Shape) + "]; vocab.json has " + vocab + " tokens");
                lg.CopyTo(logits);
            }
            catch
            {
                foreach (var v in outputs) v.Dispose();
                throw;
            }
            inputs[2].Dispose();
            inputs[3].Dispose();
            inputs[2] = outputs[hAt];
            inputs[3] = outputs[cAt];
            for (int j = 0; j < outputs.Length; j++) if (j != hAt && j != cAt) outputs[j].Dispose();
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
