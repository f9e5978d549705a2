// Best-of-N reranking of dialogue candidates in C# (Python: plugins/assetgen_dialogue/
// rerank.py): the line checks (faults), the scorers' features (the dense ones and the judged
// scorer's hashed word n-gram counts) and their logistic logit, and numpy's float64
// reductions they use (pairwise sums, mean, std, median).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AssetGen.Runtime
{
    /// <summary>numpy's float64 reductions in numpy's order of operations.</summary>
    public static class NumpyMath
    {
        public static double Sum(double[] a)
        {
            return Drivers.PairwiseSum(a, 0, a.Length);
        }

        /// <summary>np.mean: the pairwise sum divided by the count.</summary>
        public static double Mean(double[] a)
        {
            return Sum(a) / a.Length;
        }

        /// <summary>np.std (ddof 0): sqrt(mean of squared deviations from the mean).</summary>
        public static double Std(double[] a)
        {
            double mean = Mean(a);
            var sq = new double[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                double d = a[i] - mean;
                sq[i] = d * d;
            }
            double v = Sum(sq) / a.Length;
            return Math.Sqrt(v);
        }

        public static double Min(double[] a)
        {
            double m = a[0];
            foreach (double x in a) if (x < m) m = x;
            return m;
        }

        /// <summary>np.median: the middle value, or the mean of the two middle values.</summary>
        public static double Median(double[] a)
        {
            var s = (double[])a.Clone();
            Array.Sort(s);
            int n = s.Length;
            if (n % 2 == 1) return s[n / 2];
            double both = s[n / 2 - 1] + s[n / 2];
            return both / 2.0;
        }

        public static double[] Concat(double[] a, double[] b)
        {
            var c = new double[a.Length + b.Length];
            Array.Copy(a, c, a.Length);
            Array.Copy(b, 0, c, a.Length, b.Length);
            return c;
        }
    }

    /// <summary>The line checks and the learned scorer (Python: rerank.py).</summary>
    public static class DialogueRerank
    {
        const RegexOptions Plain = RegexOptions.CultureInvariant;
        const RegexOptions NoCase = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;

        static readonly HashSet<string> UnfinishedEnds = new HashSet<string>(
            "the a an and or with my your our their its very than".Split(' '), StringComparer.Ordinal);
        static readonly Regex PlaceholderRun = new Regex(@"\{(?:NAME|PLACE)\}[ ,]*(?:(?:the|and|of) )?\{(?:NAME|PLACE)\}", Plain);
        static readonly Regex Tokens = new Regex(@"[a-z']+|\{name\}|\{place\}", Plain);
        static readonly Regex Sentences = new Regex(@"[^.!?]+[.!?]+", Plain);
        static readonly Regex SentenceAny = new Regex(@"[^.!?]+[.!?]*", Plain);
        static readonly Regex Slips = new Regex(
            @"\b(?:can|can't|cannot|could|couldn't)\s+(?:not\s+)?(?:have to|need to|be able to)\b"
            + @"|\bmust\s+(?:not\s+)?(?:have to|need to)\b"
            + @"|\ba (?:very |great )?good (?:to|for|of)\b"
            + @"|\b(?:will|shall|must|can|to) be (?:earn|find|get|go|fight|help|kill|see|take|make"
            + @"|destroy|do|pay|hold)\b"
            + @"|\b(?:have|has|haven't|hasn't|had) (?:find|get|go|see|take|make|going|do|kill|know)\b"
            + @"|\b(?:should|could|would|must|might) have (?:find|get|go|see|take|make|do|kill|know"
            + @"|give)\b"
            + @"|\b(?:will|shall|must|can|can't|cannot|could|should|would|won't) (?:not )?"
            + @"(?:replied|destroyed|found|killed|defeated|seen|taken)\b"
            + @"|\bwhat's going to do\b"
            + @"|\b(?:I'm|I am|we're|we are|you're|you are|it's|is it)(?: not)? going to do with\b"
            + @"|\bI (?:will|'ll) have to do with\b", NoCase);
        static readonly Regex Contradiction = new Regex(
            @"^(?=.*\b(I am|I'm|you are|you're) \{NAME\})(?=.*\b\1 (?:not|no) \{NAME\})",
            NoCase | RegexOptions.Singleline);
        static readonly Regex PunctuationRun = new Regex(@"[!?]{3,}|\.{4,}", Plain);
        static readonly Regex NotSaid = new Regex(@"[^a-z'{} ]", Plain);

        static List<string> FindAll(Regex regex, string text)
        {
            var found = new List<string>();
            foreach (Match m in regex.Matches(text)) found.Add(m.Value);
            return found;
        }

        static int Count(string text, string part)
        {
            int n = 0, at = 0;
            while ((at = text.IndexOf(part, at, StringComparison.Ordinal)) >= 0)
            {
                n++;
                at += part.Length;
            }
            return n;
        }

        public static int Placeholders(string text)
        {
            return Count(text, "{NAME}") + Count(text, "{PLACE}");
        }

        /// <summary>The checks a candidate line fails, in Python's order (rerank.faults).</summary>
        public static List<string> Faults(string text, bool slips = true)
        {
            var found = new List<string>();
            foreach (string sentence in FindAll(Sentences, text))
            {
                if (sentence.EndsWith("..", StringComparison.Ordinal)) continue;
                var ws = FindAll(Tokens, PyStr.Lower(sentence));
                if (ws.Count > 0 && UnfinishedEnds.Contains(ws[ws.Count - 1]))
                {
                    found.Add("unfinished_sentence");
                    break;
                }
            }
            var words = FindAll(Tokens, PyStr.Lower(text));
            var triples = new HashSet<string>(StringComparer.Ordinal);
            int count = 0;
            for (int i = 0; i + 2 < words.Count; i++)
            {
                triples.Add(words[i] + "\u0000" + words[i + 1] + "\u0000" + words[i + 2]);
                count++;
            }
            if (triples.Count < count) found.Add("repeated_phrase");
            if (PlaceholderRun.IsMatch(text)) found.Add("placeholder_run");
            if (Placeholders(text) > 2) found.Add("many_placeholders");
            if (slips && Slips.IsMatch(text)) found.Add("grammar_slip");
            if (slips && PunctuationRun.IsMatch(text)) found.Add("punctuation_run");
            if (slips)
            {
                var said = new List<string>();
                foreach (string x in FindAll(SentenceAny, text))
                {
                    string s = PyStr.Strip(NotSaid.Replace(PyStr.Lower(x), ""));
                    if (s.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).Length >= 2) said.Add(s);
                }
                if (new HashSet<string>(said, StringComparer.Ordinal).Count != said.Count) found.Add("repeated_sentence");
                if (Contradiction.IsMatch(text)) found.Add("contradiction");
            }
            return found;
        }

        static List<string> Words(string text)
        {
            var output = new List<string>();
            var word = new StringBuilder();
            foreach (char ch in PyStr.Lower(text) + " ")
            {
                if (PyStr.IsWordChar(ch)) word.Append(ch);
                else if (word.Length > 0)
                {
                    string w = word.ToString();
                    string stripped = PyStr.Strip(w, "'");
                    output.Add(stripped.Length > 0 ? stripped : w);
                    word.Clear();
                }
            }
            return output;
        }

        /// <summary>math.log1p(n) for the line lengths (0 to 400) as CPython on Linux x86-64
        /// computes it (glibc), so the learned scores match bit for bit; the platform's
        /// Math.Log(1 + n) beyond.</summary>
        static double Log1p(int n)
        {
            if (n >= 0 && n < Log1pTable.Length) return BitConverter.Int64BitsToDouble(Log1pTable[n]);
            return Math.Log(1.0 + n);
        }

        /// <summary>The scorer's features of one candidate (rerank.features).</summary>
        public static double[] Features(string text, double[] logprobs, HashSet<string> known)
        {
            double[] lp = logprobs.Length == 0 ? new[] { -20.0 } : logprobs;
            var w = Words(text);
            int n = Math.Max(w.Count, 1);
            int punct = 0;
            foreach (char ch in text) if (!char.IsLetterOrDigit(ch) && !PyStr.IsSpace(ch)) punct++;
            int knownCount = 0;
            foreach (string x in w) if (known.Contains(x)) knownCount++;
            string trimmed = PyStr.RStrip(text, "'\")");
            bool ends = trimmed.EndsWith("!", StringComparison.Ordinal) || trimmed.EndsWith("?", StringComparison.Ordinal) || trimmed.EndsWith(".", StringComparison.Ordinal);
            return new[]
            {
                NumpyMath.Mean(lp),
                NumpyMath.Min(lp),
                NumpyMath.Std(lp),
                Log1p(text.Length),
                w.Count / 20.0,
                w.Count > 0 ? 1.0 - (double)new HashSet<string>(w, StringComparer.Ordinal).Count / n : 0.0,
                w.Count > 0 ? (double)knownCount / n : 0.0,
                ends ? 1.0 : 0.0,
                (double)Placeholders(text),
                (double)punct / Math.Max(text.Length, 1),
            };
        }

        /// <summary>Sentence marks of the n-gram features (rerank.GRAM_START, GRAM_END).</summary>
        public const string GramStart = "<s>", GramEnd = "</s>";
        /// <summary>Longest n-gram the judged scorer counts (rerank.GRAM_ORDER).</summary>
        public const int GramOrder = 3;

        /// <summary>The words of the n-gram features: each sentence's lower-cased words
        /// (letters and apostrophes, {name}, {place}) between sentence marks
        /// (rerank.gram_words).</summary>
        public static List<string> GramWords(string text)
        {
            var output = new List<string>();
            foreach (string sentence in FindAll(SentenceAny, text))
            {
                var ws = FindAll(Tokens, PyStr.Lower(sentence));
                if (ws.Count == 0) continue;
                output.Add(GramStart);
                output.AddRange(ws);
                output.Add(GramEnd);
            }
            return output;
        }

        /// <summary>How often each bucket's n-grams (one to GramOrder words joined by a space,
        /// FNV-1a 64 of their UTF-8 bytes modulo buckets) occur in the text
        /// (rerank.gram_counts).</summary>
        public static double[] GramCounts(string text, int buckets)
        {
            var counts = new double[buckets];
            if (buckets <= 0) return counts;
            var ws = GramWords(text);
            for (int n = 1; n <= GramOrder; n++)
                for (int i = 0; i + n <= ws.Count; i++)
                    counts[(int)(SeedStream.Fnv1a64(string.Join(" ", ws.GetRange(i, n))) % (ulong)buckets)] += 1.0;
            return counts;
        }

        /// <summary>A scorer's input for one line: the features, then the buckets' n-gram
        /// counts (rerank.scorer_row).</summary>
        public static double[] ScorerRow(string text, double[] logprobs, HashSet<string> known, int buckets)
        {
            double[] dense = Features(text, logprobs, known);
            return buckets > 0 ? NumpyMath.Concat(dense, GramCounts(text, buckets)) : dense;
        }

        // math.log1p(0..400) on CPython 3.11 / glibc x86-64, as IEEE-754 bits
        static readonly long[] Log1pTable = MakeLog1pTable();

        static long[] MakeLog1pTable()
        {
            var t = new long[Log1pBits.Length / 16];
            for (int i = 0; i < t.Length; i++)
                t[i] = long.Parse(Log1pBits.Substring(16 * i, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            return t;
        }

        const string Log1pBits = 
            "00000000000000003fe62e42fefa39ef3ff193ea7aad030a3ff62e42fefa39ef3ff9c041f7ed8d333ffcab0bfa2a20023fff2272ae325a574000a2b23f3bab73"
            + "400193ea7aad030b40026bb1bbb5551640032ee3b77f374c4003e116bcd39e7d400485042b318c5140051cca16d7bba84005aa16394d481f40062e42fefa39ef"
            + "4006aa6bc1fa7f7a40071f7b3a6b918640078e360604b32c4007f7427b73e39140085b2e946faeb14008ba74773dc5c84009157dfdd1b3f040096ca77c922cf9"
            + "4009c041f7ed8d33400a1094eaf01acd400a5ddfb8038490400aa85ad6964a23400af038cbcdfe1f400b35a6f90bd69b400b78ce48912b5a400bb9d3beb8c86b"
            + "400bf8d8f4d5b8d1400c35fc81b90df6400c715a530ff3c5400cab0bfa2a2002400ce328ee3ac7bd400d19c6c5c341a8400d4ef968880dd6400d82d33b32720d"
            + "400db565458eac4e400de6bf542e3d2d400e16f01614ec11400e460536fc5443400e740b76a3c9a4400ea10ebd90426c400ecd1a2f90f0b6400ef8383c50bb74"
            + "400f2272ae325a57400f4bd2b7ac1baf400f7460ff5100ff400f9c25aaaea949400fc32868223cab400fe97077c2130c4010078259bafef3401019f5cb2a6c50"
            + "40102c15a1ad9a5940103de4c5c6464d40104f65f9c729794010609bdc65328b40107188eb126c0d4010822f8427dceb40109291e8e3181b4010a2b23f3bab73"
            + "4010b292939429754010c234da4a23a64010d19af128112d4010e0c6a0bbce394010efb99d941abb4010fe758967412140110cfbf424d6c940111b4e5cf4573f"
            + "4011296e33222fe64011375cd6fcab1c4011451b9aa2075c401152abc2c0e8124011600e874c323c40116d4514234e2940117a5089afb17340118731fd788044"
            + "401193ea7aad030b4011a07b02a69d654011ace48d62e4824011b92809f665d44011c5465ef8a30a4011d1406ae9bd464011dd1704923fd24011e8cafb5d7160"
            + "4011f45d17ae8af64011ffce1b312c1040120b1ec1255cbe4012164fbea7687440122161c2f3d67040122c5577a7bf994012372b80fdbce3401241e47e07a4f8"
            + "40124c8108e54bf840125701b6f8746a4012616719161d2b40126bb1bbb55516401275e2271bba3140127ff8df87c7bd401289f6655913ec401293db35369be2"
            + "40129da7c8333aa54012a75c93f065934012b0fa0abf475b4012ba809bc050c44012c3f0b30155064012cd4ab99a46314012d68f15c8a4a14012dfbe2b09b38d"
            + "4012e8d85a33835c4012f1de018ce1974012facf7ce43d45401303ad25a58d8b40130c7752ef47ae4013152e59a670b740131dd28c89d653401326643c4479c9"
            + "40132ee3b77f374c401337514af1b34b40133fad417296e9401347f7e40724294013503179f229e74013585a48c25f594013607294602e424013687a9f1af2b1"
            + "40137072a9b5b6cb4013785af37370b340138033ba22c862401387fd3a296ae440138fb7ae8ef02c401397635107586b40139f0059fd25954013a68f009b1577"
            + "4013ae0f7ad5809d4013b581fd7361f94013bce6bc170b124013c43de946885e4013cb87b673b91e4013d2c454041e074013d9f3f15861ce4013e116bcd39e7d"
            + "4013e82ce3e2625c4013ef36930177244013f633f5c46dee4013fd2536dbf25a4014040a801be72d40140ae3fa814e9a401411b1ce3800534014187422a02f50"
            + "40141f2b1e53c142401425d6e72b797a40142c77a243f8fa4014330d7402956740143998801a085c40144018e98ef8b14014468ed2bc5f1840144cfa5d57c782"
            + "4014535baa75708e401459b2da8c4a48401460000d79d57b401466436285e4a340146c7cf8663fb5401472aced422bc0401478d35eb5d75f40147ef069d5ad12"
            + "401485042b318c5140148b0ebed7ea48401491104058db1c40149708cac9048440149cf878c47a874014a2df647187104014a8bda7835d304014ae935b3cb89d"
            + "4014b46098726a3b4014ba25778dd2344014bfe2108f48584014c5967b10734e4014cb42ce468f2b4014d0e72104a3fc4014d68389bdacd04014dc181e86afb2"
            + "4014e1a4f518c72c4014e72a22d31dae4014eca7bcbcdb634014f21dd78706d74014f78c878e58de4014fcf3e0dd042140150253f72c70ba401507acdde6ec36"
            + "40150cfea8294e624015124968c493364015178d323f6a3840151cca16d7bba840152200288423c14015272f78f5646940152c581997cd864015317a1b949c53"
            + "401536958fd351f040153baa86fb016f401540b9117395a5401545c13f670efb40154ac320c2b97440154fbec5385b2a401554b43c3f5b7d401559a39515e320"
            + "40155e8cdec1f53c40156370281281e34015684d7fa071fb40156d24f3cfacd1401571f692d0178c401576c26a9e8e9940157b888905d95540158048fb9f9802"
            + "40158503cfd52c43401589b912e09c4440158e68d1cd70a94015931319798d6e401597b7f69605e540159c5775a7ebdf4015a0f1a3091a364015a5868ae8facb"
            + "4015aa16394d481f4015aea0ba12ca9a4015b32618ee11ab4015b7a6616c28d54015bc219ef348c34015c097dcc384834015c50925f772fe4015c9758584d4c9"
            + "4015cddd063d365f4015d23fb2ce8eec4015d69d95c3dba84015daf6b985b7f54015df4b285af2364015e39aec691d914015e7e60fb5209a4015ec2c9c23c107"
            + "4015f06e9b7a2c7e4015f4ac175e7e8a4015f8e5195843cd4015fd19aad0fa8940160149d514907940160575a151de274016099d189b1fbf40160dc043e66b67"
            + "401611df2c0e2544401615f9d9d1712440161a1055d4a1e240161e22a8a1a69740162230daa8759e4016263af43f758040162a40fda3e3cc40162e42fefa39ef"
            + "40163241004e90114016363b0994fe0940163a3122a9fa7440163e235352b7f140164211a33d8095401645fc1a020fa0401649e2bf21e98140164dc59a08b222"
            + "401651a4b20c81a2401655800e6e376a40165957b659cbb940165d2bb0e69fa9401660fc0517cbb7401664c8b9dc6cd340166891d60ff00640166c57607a5cb5"
            + "401670195fd09d81401673d7dab4c7db40167792d7b6624040167b4a5d52a93640167efe71f4d30b401682af1bf652504016865c619f173240168a064925cf9c"
            + "40168dacd8b0263a401691501653005c401694f00812babe4016988cb3e3654540169c261fa8fda640169fbc5137a90c4016a34f4e53ecbd4016a6df1cb2e5bb"
            + "4016aa6bc1fa7f7a4016adf543c1a99a4016b17ba7908cbb4016b4fef2e0be624016b87f2b1d74054016bbfc55a3b52c4016bf7677c28cc64016c2ed96bb3998"
            + "4016c661b7c15dee4016c9d2dffb2e6b4016cd411481a0204016d0ac5a6095d84016d414b6970c9e4016d77a2e1747914016dadcc5c6faf34016de3c827f768e"
            + "4016e199690dcf5a4016e4f37e3308804016e84ac6a43bac4016eb9f470ac0b84016eef1040454af4016f240022340384016f58c45ee7d594016f8d5d3e1dca5"
            + "4016fc1cb06e29cb4016ff60dff94f9a401702a266de7b68401705e1496e3fef4017091d8beeb79c40170c57329ba65640170f8e41a69ab5401712c2bd370ec0"
            + "401715f4a96a881e401719240a54b7cc40171c50e3ff995340171f7b3a6b9186401722a3118f8cc2401725c86d591cb9401728eb51ac95c940172c0bc2652be1"
            + "40172f29c3550ef140173245584586f34017355e84f70f80401738754d2172fd40173b89b473e56440173e9bbe951e9c401741ab6f23747a401744b8c9b4f450"
            + "401747c3d1d77c2640174acc8b10d38f40174dd2f8dec41e401750d71eb73186401753d900083153401756d8a0382259401759d602a5c3c240175cd12aa84bc2"
            + "40175fca1b8f7e08401762c0d8a3c1c4401765b565263775401768a7c450ce4e40176b97f956596040176e860762a46d40177171f19a88704017745bbb1bffdb"
            + "4017774366fe3a8c40177a28f851b17940177d0c72203a1640177fedd76d1972401782cd2b351715401785aa706e8f9640178885aa0986ed40178b5edaefba8c"
            + "40178e360604b32c4017910b2e25d668401793de562a780e401796af80e3eb3a4017997eb11d933340179c4be99cf40d40179f172d21c3134017a1e07e65f6f0"
            + "4017a4a7e01dd7ac4017a76d54f80e694017aa30df9db4eb4017acf282b264eb4017afb240d447394017b2701c9c22a14017b52c189d6aa94017b7e637664e15"
            + "4017ba9e7b7fc5384017bd54e76da01c4017c0097dae94734017c2bc40bc4b5f4017c56d330b6f054017c81c570bb7f84017cac9af27fa754017cd753dc63374"
            + "4017d01f054795894017d2c7080895a04017d56d4860f78e4017d811c8a3da744017dab48b1fc4fd4017dd55921eb1764017dff4dfe619b54017e29276b702e5"
            + "4017e52e58ce09254017e7c888636aff4017ea6107ab14c04017ecf7d8d4aba74017ef8cfe0b98f24017f220797714c44017f4b24d3a30ef4017f7427b73e391"
            + "4017f9d1063f119c";
    }

    /// <summary>A learned reranker (scorer.json: rerank=learned; judged_scorer.json:
    /// rerank=judged): a logistic regression on standardised features, the dense features then
    /// NgramBuckets n-gram counts (Python: rerank.Scorer).</summary>
    public sealed class DialogueScorer
    {
        /// <summary>The dense features of every scorer (rerank.FEATURES).</summary>
        public const int FeatureCount = 10;

        public double[] Mean { get; }
        public double[] Scale { get; }
        public double[] Weights { get; }
        public double Bias { get; }
        /// <summary>The n-gram buckets after the dense features (0: none).</summary>
        public int NgramBuckets { get; }

        /// <summary>A scorer, checked as Python's Scorer.from_json checks it; name is the
        /// file the messages name.</summary>
        public DialogueScorer(double[] mean, double[] scale, double[] weights, double bias, int ngramBuckets = 0,
            string name = "scorer.json")
        {
            if (mean == null || scale == null || weights == null)
                throw new ModelException(name + ": " + Required);
            Check(name, new[] { mean.Length }, new[] { scale.Length }, new[] { weights.Length }, ngramBuckets);
            Mean = mean;
            Scale = scale;
            Weights = weights;
            Bias = bias;
            NgramBuckets = ngramBuckets;
            Check(name);
        }

        const string Required = "fields 'mean', 'scale', 'weights' (lists of numbers) and 'bias' are required";

        static void Check(string name, int[] mean, int[] scale, int[] weights, long buckets)
        {
            long size = FeatureCount + buckets;
            bool one = mean.Length == 1 && scale.Length == 1 && weights.Length == 1
                && mean[0] == size && scale[0] == size && weights[0] == size;
            if (buckets < 0 || !one)
                throw new ModelException(name + ": 'mean', 'scale' and 'weights' must each hold " + size + " numbers ("
                    + FeatureCount + " features and " + buckets + " n-gram buckets)");
        }

        void Check(string name)
        {
            bool finite = !double.IsNaN(Bias) && !double.IsInfinity(Bias);
            foreach (double w in Weights) finite &= !double.IsNaN(w) && !double.IsInfinity(w);
            if (!finite) throw new ModelException(name + ": 'weights' and 'bias' must be finite numbers");
            bool ok = true;
            foreach (double m in Mean) ok &= !double.IsNaN(m) && !double.IsInfinity(m);
            foreach (double s in Scale) ok &= s > 0;
            if (!ok) throw new ModelException(name + ": 'mean' must be finite and 'scale' positive");
            bool any = false;
            foreach (double w in Weights) any |= w != 0.0;
            if (!any) throw new ModelException(name + ": 'weights' are all zero (an untrained scorer)");
        }

        /// <summary>The scorer of a parsed JSON document (Python: Scorer.from_json(doc, name)),
        /// refused with Python's messages: the fields missing or not numbers, lengths other than
        /// the features and buckets, numbers not finite, a scale not positive, all-zero weights.
        /// Fields are read as numpy reads them (np.asarray(x, float64), float(bias),
        /// int(ngram_buckets)): null in a list is NaN, true and false are 1 and 0, text that
        /// spells a number is that number.</summary>
        public static DialogueScorer FromJson(object doc, string name)
        {
            var d = doc as Dictionary<string, object>;
            object meanField, scaleField, weightsField, biasField, bucketsField;
            List<double> mean = new List<double>(), scale = new List<double>(), weights = new List<double>();
            List<int> meanShape, scaleShape, weightsShape;
            double bias;
            long buckets = 0;
            if (d == null
                || !d.TryGetValue("mean", out meanField) || !AsArray(meanField, mean, out meanShape)
                || !d.TryGetValue("scale", out scaleField) || !AsArray(scaleField, scale, out scaleShape)
                || !d.TryGetValue("weights", out weightsField) || !AsArray(weightsField, weights, out weightsShape)
                || !d.TryGetValue("bias", out biasField) || !PyFloat(biasField, false, out bias)
                || (d.TryGetValue("ngram_buckets", out bucketsField) && !PyInt(bucketsField, out buckets)))
                throw new ModelException(name + ": " + Required);
            Check(name, meanShape.ToArray(), scaleShape.ToArray(), weightsShape.ToArray(), buckets);
            return new DialogueScorer(mean.ToArray(), scale.ToArray(), weights.ToArray(), bias, (int)buckets, name);
        }

        /// <summary>np.asarray(value, dtype=float64): its numbers and shape; false where numpy
        /// raises (a ragged list, an object, text that is no number).</summary>
        static bool AsArray(object value, List<double> leaves, out List<int> shape)
        {
            shape = new List<int>();
            var list = value as List<object>;
            if (list == null)
            {
                if (value is Dictionary<string, object>) return false;
                double x;
                if (!PyFloat(value, true, out x)) return false;
                leaves.Add(x);
                return true;
            }
            shape.Add(list.Count);
            List<int> inner = null;
            foreach (object item in list)
            {
                List<int> s;
                if (!AsArray(item, leaves, out s)) return false;
                if (inner == null) inner = s;
                else if (!SameShape(inner, s)) return false;
            }
            if (inner != null) shape.AddRange(inner);
            return true;
        }

        static bool SameShape(List<int> a, List<int> b)
        {
            if (a.Count != b.Count) return false;
            for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) return false;
            return true;
        }

        /// <summary>Python's float(value) of a JSON value (noneIsNaN: numpy's float64 of
        /// None).</summary>
        static bool PyFloat(object value, bool noneIsNaN, out double x)
        {
            x = double.NaN;
            if (value == null) return noneIsNaN;
            if (value is long l) { x = l; return true; }
            if (value is double v) { x = v; return true; }
            if (value is bool b) { x = b ? 1.0 : 0.0; return true; }
            var s = value as string;
            if (s == null) return false;
            string t = PyStr.Strip(s).ToLowerInvariant();
            string unsigned = t.StartsWith("-", StringComparison.Ordinal) || t.StartsWith("+", StringComparison.Ordinal) ? t.Substring(1) : t;
            bool negative = t.StartsWith("-", StringComparison.Ordinal);
            if (unsigned == "nan") { x = double.NaN; return true; }
            if (unsigned == "inf" || unsigned == "infinity") { x = negative ? double.NegativeInfinity : double.PositiveInfinity; return true; }
            foreach (char c in unsigned)
                if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == '+' || c == '-')) return false;
            return double.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out x);
        }

        /// <summary>Python's int(value) of a JSON value (a float truncated).</summary>
        static bool PyInt(object value, out long n)
        {
            n = 0;
            if (value is long l) { n = l; return true; }
            if (value is bool b) { n = b ? 1 : 0; return true; }
            if (value is double v)
            {
                if (double.IsNaN(v) || double.IsInfinity(v) || Math.Abs(v) >= 9.2e18) return false;
                n = (long)Math.Truncate(v);
                return true;
            }
            var s = value as string;
            if (s == null) return false;
            string t = PyStr.Strip(s);
            foreach (char c in t.TrimStart('+', '-')) if (c < '0' || c > '9') return false;
            return long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n);
        }

        /// <summary>The scorer's input for one candidate (rerank.Scorer.row).</summary>
        public double[] Row(string text, double[] logprobs, HashSet<string> known)
        {
            return DialogueRerank.ScorerRow(text, logprobs, known, NgramBuckets);
        }

        /// <summary>(x - mean) / scale @ weights + bias, the dot product summed left to right
        /// (numpy's matrix-vector product may add in another order: the last bit of a score
        /// can differ; see docs/runtime.md).</summary>
        public double Logit(double[] x)
        {
            if (x.Length != Mean.Length)
                throw new ModelException("the scorer has " + Mean.Length + " features; the runtime computes " + x.Length);
            double acc = 0.0;
            for (int i = 0; i < x.Length; i++)
            {
                double d = x[i] - Mean[i];
                double z = d / Scale[i];
                double p = z * Weights[i];
                acc = i == 0 ? p : acc + p;
            }
            return acc + Bias;
        }
    }
}
