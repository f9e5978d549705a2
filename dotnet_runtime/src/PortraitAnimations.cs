// Talk and blink loops of label-conditioned portraits (Python: plugin.py _animate_labels,
// _states_by_curve, _mouth_frames; labels.py keep_local): each frame draws the labelled mouth
// (eye) state nearest the driver curve, starting from the still's own state; w stays the
// still's, only the mouth (eye) label changes, and a talk frame is kept to the two mouths'
// footprints around the still.
using System;
using System.Collections.Generic;

namespace AssetGen.Runtime
{
    /// <summary>Options of a portrait animation (Python: PortraitAnimationOptions): "talk"
    /// (the generic loop, or lip sync from a line of text or a cue file; from audio is not in
    /// the runtime), "blink",
    /// "mouths" (the nine shape frames) and "interpolate" (morph to <see cref="ToSeed"/>).</summary>
    public sealed class PortraitAnimationOptions : PortraitOptions
    {
        public static readonly string[] Animations = { "talk", "blink", "interpolate", "mouths" };
        public string Animation { get; set; } = "talk";
        public double Fps { get; set; } = 12.0;
        /// <summary>How far the mouth opens (eyes close), 0 to 2; 0 gives the still.</summary>
        public double Strength { get; set; } = 1.0;
        /// <summary>interpolate: the seed to morph into (-1 = seed + 1).</summary>
        public long ToSeed { get; set; } = -1;
        /// <summary>talk: a Rhubarb Lip Sync cue file (JSON or TSV) to play, "" for none;
        /// the frames then show its mouth shapes as the model draws them.</summary>
        public string Cues { get; set; } = "";
        /// <summary>talk: a line to say, spoken with mouth shapes from its phones (a model
        /// with mouth shapes; see <see cref="PortraitsGenerator.Pronunciations"/>); sets the
        /// frame count when none is given.</summary>
        public string Text { get; set; } = "";
        /// <summary>talk with text: shortest time a mouth shape is held, in seconds (0 to 0.5).</summary>
        public double Hold { get; set; } = LipSyncSmoothing.DefaultMinHold;
        /// <summary>talk with text: one in-between frame where the mouth jumps between closed
        /// and wide open (C) or puckered and wide open (E).</summary>
        public bool Tween { get; set; } = true;
        /// <summary>talk with text: the extended shapes G and H; off: A-F and X only.</summary>
        public bool ExtendedShapes { get; set; } = true;
    }

    /// <summary>An animation's frames (each Height x Width x 4 bytes, as
    /// <see cref="PortraitImage.Rgba"/>), the face's labels, and the labelled state each frame
    /// draws.</summary>
    public sealed class PortraitAnimation
    {
        public int Width { get; }
        public int Height { get; }
        public double Fps { get; }
        public List<byte[]> Frames { get; }
        public Dictionary<string, string> Labels { get; }
        /// <summary>The states the loop moves between (closed, half-open, open mouths; open,
        /// closed eyes).</summary>
        public string[] States { get; }
        public List<string> FrameStates { get; }
        /// <summary>mouths: the shape letter of each frame (A-H, X); null otherwise.</summary>
        public List<string> FrameShapes { get; internal set; }
        /// <summary>talk from text: the smoothed mouth-shape track behind the frames (Python:
        /// metadata "lipsync").</summary>
        public CueTrack LipSync { get; internal set; }
        /// <summary>interpolate: the seed morphed into and its labels; -1 and null otherwise.</summary>
        public long ToSeed { get; internal set; } = -1;
        public Dictionary<string, string> ToLabels { get; internal set; }
        /// <summary>Unconditional talk and blink: the edit's (dy, dx), the still's own state,
        /// the off frame's state and the driver curve; null / NaN otherwise.</summary>
        public int[] EditShift { get; internal set; }
        public double StartState { get; internal set; } = double.NaN;
        public double RestState { get; internal set; } = double.NaN;
        public float[] Curve { get; internal set; }

        public PortraitAnimation(int width, int height, double fps, List<byte[]> frames, Dictionary<string, string> labels, string[] states, List<string> frameStates)
        {
            Width = width;
            Height = height;
            Fps = fps;
            Frames = frames;
            Labels = labels;
            States = states;
            FrameStates = frameStates;
        }
    }

    public sealed partial class PortraitsGenerator
    {
        /// <summary>Checks animation options as Python does, in its order: every option's
        /// value, then what depends on the model, then the drivers (the cue file is read).</summary>
        public void Validate(PortraitAnimationOptions options)
        {
            ValidateValues(options);
            if (Array.IndexOf(PortraitAnimationOptions.Animations, options.Animation) < 0)
            {
                var quoted = new List<string>();
                foreach (string a in PortraitAnimationOptions.Animations) quoted.Add(PyText.Repr(a));
                throw Fail("animation", "one of " + string.Join(", ", quoted), options.Animation == null ? "None" : PyText.Show(PyText.Repr(options.Animation)));
            }
            double fps = options.Fps;
            if (double.IsNaN(fps) || double.IsInfinity(fps) || fps < Drivers.FpsMin || fps > Drivers.FpsMax)
                throw Fail("fps", "a number from " + PyText.G(Drivers.FpsMin) + " to " + PyText.G(Drivers.FpsMax), PyText.Repr(fps));
            string text = options.Text ?? "";
            if (options.Text == null)
                throw Fail("text", "text of at most " + LipSyncText.MaxTextChars + " characters", "None");
            if (LipSyncText.Length(text) > LipSyncText.MaxTextChars)
                throw Fail("text", "text of at most " + LipSyncText.MaxTextChars + " characters", PyText.Show(PyText.Repr(text)));
            string cues = options.Cues ?? "";
            if (cues.Length > 4096)
                throw Fail("cues", "text of at most 4096 characters", PyText.Show(PyText.Repr(cues)));
            double hold = options.Hold;
            if (double.IsNaN(hold) || double.IsInfinity(hold) || hold < 0.0 || hold > LipSyncSmoothing.MaxMinHold)
                throw Fail("hold", "a number from 0 to " + PyText.G(LipSyncSmoothing.MaxMinHold), PyText.Repr(hold));
            double s = options.Strength;
            if (double.IsNaN(s) || double.IsInfinity(s) || s < 0.0 || s > 2.0)
                throw Fail("strength", "a number from 0 to 2", PyText.Repr(s));
            if (options.ToSeed < -1)
                throw Fail("to_seed", "an integer from -1 to " + long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), options.ToSeed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            ValidateForModel(options);
            string edit = options.Animation == "talk" ? "mouth" : options.Animation == "blink" ? "blink" : null;
            if (Unconditional && edit != null && !edits.ContainsKey(edit))
                throw new InvalidOptionsException("option 'animation': model '" + System.IO.Path.GetFileName(Folder.Directory) + "' has no " + edit + " edit (a model trained on unlabelled art has none); use animation='interpolate'", "animation", options.Animation);
            if (cues.Length > 0 && text.Length > 0)
                throw new InvalidOptionsException("option 'cues' gives the mouth shapes itself; leave 'text' and 'audio' empty with it", "cues", null);
            if ((cues.Length > 0 || text.Length > 0) && options.Animation != "talk")
                throw new InvalidOptionsException("options 'text', 'audio' and 'cues' drive the talk animation; got animation=" + PyText.Repr(options.Animation), "animation", options.Animation);
            if (options.Animation == "mouths" && (Unconditional || !Labels.HasMouthShapes))
                throw new InvalidOptionsException("option 'animation': model '" + System.IO.Path.GetFileName(Folder.Directory) + "' has no mouth shapes (only label-conditioned models with 'mouth_shapes' in their manifest do); use animation='talk'", "animation", options.Animation);
            if (text.Length > 0 && LipSyncText.PyStrip(text).Length == 0)
                throw new InvalidOptionsException("option 'text' is only whitespace; give a line to say or leave it empty", "text", null);
            if (text.Length > 0 && !SpeaksShapes)
                throw new NotSupportedException("talk from text on a model without mouth shapes (Python: drivers.text_curve, an openness curve) is not in the C# runtime; use a model with mouth shapes or a cue file");
            if (cues.Length > 0) CueFiles.Read(cues);
        }

        bool SpeaksShapes => !Unconditional && Labels.HasMouthShapes;

        /// <summary>The CMU Pronouncing Dictionary the text driver looks words up in (Python
        /// reads pocketsphinx's model/en-us/cmudict-en-us.dict); null: every word goes through
        /// the spelling rules, as Python does without pocketsphinx.</summary>
        public PronouncingDictionary Pronunciations { get; set; }

        CueTrack cachedTrack;
        string cachedKey;

        /// <summary>The smoothed mouth-shape track of a talk from text (Python: plugin.track):
        /// the text driver, smoothing at the frame rate, the in-between frames.</summary>
        public CueTrack TextTrack(PortraitAnimationOptions options)
        {
            string key = string.Join("\u0000", options.Text, PyText.Repr(options.Hold), options.ExtendedShapes.ToString(), options.Tween.ToString(), PyText.Repr(options.Fps), (Pronunciations == null ? 0 : Pronunciations.GetHashCode()).ToString());
            if (cachedTrack != null && key == cachedKey) return cachedTrack;
            CueTrack track = LipSyncText.TextTrack(options.Text, Pronunciations, LipSyncText.DefaultRate, options.ExtendedShapes);
            track = LipSyncSmoothing.Smooth(track, options.Hold, options.Fps);
            if (options.Tween) track = LipSyncSmoothing.Tween(track, options.Fps);
            cachedTrack = track;
            cachedKey = key;
            return track;
        }

        /// <summary>The frame count Python's Engine.animate uses when none is given: the nine
        /// shapes for mouths, the cue file's length for talk with cues, else 8.</summary>
        public int FrameCount(PortraitAnimationOptions options)
        {
            options = options ?? new PortraitAnimationOptions();
            Validate(options);
            if (options.Animation == "mouths") return Shapes.Length;
            bool spoken = !string.IsNullOrEmpty(options.Text);
            if (options.Animation != "talk" || (string.IsNullOrEmpty(options.Cues) && !spoken)) return DefaultFrames;
            int n = CueFiles.TrackFrames(spoken ? TextTrack(options) : CueFiles.Read(options.Cues), options.Fps);
            if (n > Drivers.FramesMax)
                throw new InvalidOptionsException("the line takes " + n + " frames at " + PyText.G(options.Fps) + " fps, more than the " + Drivers.FramesMax + "-frame limit; shorten it or lower fps", spoken ? "text" : "cues", null);
            return n;
        }

        /// <summary>Frames of an animation when no count is given (Python: DEFAULT_FRAMES).</summary>
        public const int DefaultFrames = 8;

        /// <summary>An animation as long as <see cref="FrameCount"/> says.</summary>
        public PortraitAnimation Animate(long seed, PortraitAnimationOptions options)
        {
            RequestChecks.Seed(seed);
            return Animate(seed, FrameCount(options), options);
        }

        /// <summary>The seed an interpolation morphs into (Python: _to_seed).</summary>
        static long ToSeedOf(long seed, PortraitAnimationOptions options)
        {
            if (options.ToSeed >= 0) return options.ToSeed;
            if (seed == long.MaxValue)
                throw new InvalidOptionsException("option 'to_seed' defaults to seed + 1, which is over " + long.MaxValue + "; give to_seed", "to_seed", null);
            return seed + 1;
        }

        // interpolate: w moves linearly, the labels one part after another (MorphSchedule)
        PortraitAnimation Interpolate(long seed, int frames, PortraitAnimationOptions options, Batch batch, float[] weights, Dictionary<string, string> labels)
        {
            long toSeed = ToSeedOf(seed, options);
            var other = LabelBatch(new[] { toSeed }, options);
            float[] t = Linspace(frames);
            List<float[]> rows = Labels.Morph(weights, Labels.Weights(other.Codes[0]), t);
            float[] w; float[] m16; float[] m32; long[] s16; long[] s32;
            MapLabels(rows, Labels.Size, out w, out m16, out s16, out m32, out s32);
            int perWs = NumWs * WDim;
            var ws = new float[frames * perWs];
            for (int i = 0; i < frames; i++)
                for (int k = 0; k < perWs; k++)
                {
                    float diff = other.Ws[k] - batch.Ws[k];
                    float moved = t[i] * diff;
                    ws[i * perWs + k] = batch.Ws[k] + moved;
                }
            var images = Synthesise(ws, m16, s16, m32, s32, frames);
            return new PortraitAnimation(images.Width, images.Height, options.Fps, images.Pixels, labels, null, null)
            {
                ToSeed = toSeed,
                ToLabels = Labels.Readable(other.Codes[0]),
            };
        }

        /// <summary>Mouth openness of each Rhubarb shape, for models without mouth shapes
        /// (Python: SHAPE_OPENNESS).</summary>
        public static readonly Dictionary<string, float> ShapeOpenness = new Dictionary<string, float>(StringComparer.Ordinal)
        {
            { "A", 0.0f }, { "B", 0.3f }, { "C", 0.7f }, { "D", 1.0f }, { "E", 0.5f }, { "F", 0.35f },
            { "G", 0.3f }, { "H", 0.6f }, { "X", 0.0f },
        };

        // plugin.py animate for an unconditional model: the edit's deltas along the curve
        // on the still's feature map, frames from the suffix (or the edit's window graph)
        PortraitAnimation EditAnimation(long seed, int frames, PortraitAnimationOptions options)
        {
            bool blink = options.Animation == "blink";
            LocalEdit edit = edits[blink ? "blink" : "mouth"];
            float[] curve;
            List<string> shapes = null;
            if (blink) curve = Drivers.BlinkCurve(frames, options.Fps, seed);
            else if (!string.IsNullOrEmpty(options.Cues))
            {
                shapes = CueFiles.FrameShapes(CueFiles.Read(options.Cues), options.Fps, frames);
                curve = new float[shapes.Count];
                for (int i = 0; i < curve.Length; i++)
                {
                    float openness;
                    curve[i] = ShapeOpenness.TryGetValue(shapes[i], out openness) ? openness : 0f;
                }
            }
            else curve = Drivers.TalkCycle(frames, options.Fps, seed);
            float[] ws = WsBatch(new[] { seed }, options);
            var prefix = folder.Session(Prefix).Run(new Dictionary<string, Tensor>
            {
                { "ws", new Tensor(new long[] { 1, NumWs, WDim }, ws) },
            });
            Tensor features = Output(prefix, Prefix, 0, "features"), skip = Output(prefix, Prefix, 1, "skip");
            int[] where;
            double start, rest;
            List<float[]> deltas = edit.FrameDeltas(features.Data, curve, options.Strength, out where, out start, out rest);
            int height, width;
            List<byte[]> images = EditFrames(features, skip, ws, deltas, edit, out height, out width);
            return new PortraitAnimation(width, height, options.Fps, images, null, null, null)
            {
                FrameShapes = shapes,
                EditShift = where,
                StartState = start,
                RestState = rest,
                Curve = curve,
            };
        }

        static Tensor Repeat(Tensor t, int n)
        {
            var shape = (long[])t.Shape.Clone();
            shape[0] = n;
            var data = new float[t.Data.Length * n];
            for (int i = 0; i < n; i++) Array.Copy(t.Data, 0, data, i * t.Data.Length, t.Data.Length);
            return new Tensor(shape, data);
        }

        // the [y0, y1) x [x0, x1) crop of the last two axes of an N x C x H x W tensor
        static Tensor CropMap(Tensor t, int y0, int y1, int x0, int x1)
        {
            int n = (int)t.Shape[0], c = (int)t.Shape[1], h = (int)t.Shape[2], w = (int)t.Shape[3];
            int ch = y1 - y0, cw = x1 - x0;
            var data = new float[n * c * ch * cw];
            for (int i = 0; i < n * c; i++)
                for (int y = 0; y < ch; y++)
                    Array.Copy(t.Data, (i * h + y0 + y) * w + x0, data, (i * ch + y) * cw, cw);
            return new Tensor(new long[] { n, c, ch, cw }, data);
        }

        List<byte[]> SuffixFrames(Tensor features, Tensor skip, float[] ws, List<float[]> deltas, out int height, out int width)
        {
            int n = deltas.Count;
            var delta = new float[n * features.Data.Length];
            for (int i = 0; i < n; i++) Array.Copy(deltas[i], 0, delta, i * features.Data.Length, features.Data.Length);
            var shape = (long[])features.Shape.Clone();
            shape[0] = n;
            Tensor wsTensor = Repeat(new Tensor(new long[] { 1, NumWs, WDim }, ws), n);
            var outputs = folder.Session(Suffix).Run(new Dictionary<string, Tensor>
            {
                { "features", Repeat(features, n) },
                { "skip", Repeat(skip, n) },
                { "ws", wsTensor },
                { "delta", new Tensor(shape, delta) },
            });
            Tensor rgba = Output(outputs, Suffix, 0, "rgba");
            height = (int)rgba.Shape[2];
            width = (int)rgba.Shape[3];
            var frames = new List<byte[]>();
            for (int i = 0; i < n; i++) frames.Add(ToUint8(rgba.Data, i, height, width));
            return frames;
        }

        // plugin.py edit_frames: a zero delta is the still itself; the others in one run of
        // the suffix, or of the edit's window graph (the still with the paste box replaced)
        List<byte[]> EditFrames(Tensor features, Tensor skip, float[] ws, List<float[]> deltas, LocalEdit edit, out int height, out int width)
        {
            height = width = 0;
            var moving = new List<int>();
            for (int i = 0; i < deltas.Count; i++)
                foreach (float v in deltas[i]) if (v != 0f) { moving.Add(i); break; }
            byte[] still = null;
            if (edit.WindowGraph != null || moving.Count < deltas.Count)
                still = SuffixFrames(features, skip, ws, new List<float[]> { new float[features.Data.Length] }, out height, out width)[0];
            var made = new Dictionary<int, byte[]>();
            if (moving.Count > 0)
            {
                var movingDeltas = new List<float[]>();
                foreach (int i in moving) movingDeltas.Add(deltas[i]);
                List<byte[]> images = edit.WindowGraph == null
                    ? SuffixFrames(features, skip, ws, movingDeltas, out height, out width)
                    : WindowFrames(features, skip, ws, movingDeltas, still, edit, height, width);
                for (int j = 0; j < moving.Count; j++) made[moving[j]] = images[j];
            }
            var frames = new List<byte[]>();
            for (int i = 0; i < deltas.Count; i++)
            {
                byte[] frame;
                if (made.TryGetValue(i, out frame)) frames.Add(frame);
                else if (still != null) frames.Add(still);
            }
            return frames;
        }

        List<byte[]> WindowFrames(Tensor features, Tensor skip, float[] ws, List<float[]> deltas, byte[] still, LocalEdit edit, int height, int width)
        {
            int y0 = edit.Crop[0], y1 = edit.Crop[1], x0 = edit.Crop[2], x1 = edit.Crop[3];
            int py0 = edit.Paste[0], py1 = edit.Paste[1], px0 = edit.Paste[2], px1 = edit.Paste[3];
            int n = deltas.Count;
            var delta = new float[n * features.Data.Length];
            for (int i = 0; i < n; i++) Array.Copy(deltas[i], 0, delta, i * features.Data.Length, features.Data.Length);
            var deltaShape = (long[])features.Shape.Clone();
            deltaShape[0] = n;
            var outputs = folder.Session(edit.WindowGraph).Run(new Dictionary<string, Tensor>
            {
                { "features", Repeat(CropMap(features, y0, y1, x0, x1), n) },
                { "skip", Repeat(CropMap(skip, y0, y1, x0, x1), n) },
                { "ws", Repeat(new Tensor(new long[] { 1, NumWs, WDim }, ws), n) },
                { "delta", CropMap(new Tensor(deltaShape, delta), y0, y1, x0, x1) },
            });
            Tensor rgba = Output(outputs, edit.WindowGraph, 0, "rgba");
            int size = width;
            int scale = height / (int)features.Shape[3]; // Python: still.shape[0] // features.shape[-1]
            int oy = y0 * scale, ox = x0 * scale;
            Tensor part = CropMap(rgba, py0 - oy, py1 - oy, px0 - ox, px1 - ox);
            int ph = py1 - py0, pw = px1 - px0;
            var frames = new List<byte[]>();
            for (int i = 0; i < n; i++)
            {
                byte[] bytes = ToUint8(part.Data, i, ph, pw);
                var frame = (byte[])still.Clone();
                for (int y = 0; y < ph; y++) Array.Copy(bytes, y * pw * 4, frame, ((py0 + y) * size + px0) * 4, pw * 4);
                frames.Add(frame);
            }
            return frames;
        }

        // np.linspace(0, 1, frames, dtype=float32): i * (1 / (frames - 1)) in float64, the last
        // exactly 1, then float32; one frame: t = 0
        static float[] Linspace(int frames)
        {
            var t = new float[frames];
            if (frames > 1)
            {
                double step = 1.0 / (frames - 1);
                for (int i = 0; i < frames - 1; i++) t[i] = (float)(i * step);
                t[frames - 1] = 1f;
            }
            return t;
        }

        // plugin.py _interpolate (unconditional models): ws of both seeds, each frame's ws
        // a + t (b - a) in float32, rendered alone (prefix, then suffix with a zero delta)
        PortraitAnimation InterpolateUnconditional(long seed, int frames, PortraitAnimationOptions options)
        {
            long toSeed = ToSeedOf(seed, options);
            float[] a = WsBatch(new[] { seed }, options), b = WsBatch(new[] { toSeed }, options);
            var pixels = new List<byte[]>();
            int width = 0, height = 0;
            foreach (float step in Linspace(frames))
            {
                var ws = new float[a.Length];
                for (int k = 0; k < ws.Length; k++)
                {
                    float diff = b[k] - a[k];
                    float moved = step * diff;
                    ws[k] = a[k] + moved;
                }
                var sprite = Render(ws, 1);
                width = sprite.Width;
                height = sprite.Height;
                pixels.Add(sprite.Pixels[0]);
            }
            return new PortraitAnimation(width, height, options.Fps, pixels, null, null, null) { ToSeed = toSeed };
        }

        /// <summary>A talk, blink, mouths or interpolate animation of <paramref name="frames"/>
        /// frames from one seed (an unconditional model: interpolate only, so far).</summary>
        public PortraitAnimation Animate(long seed, int frames, PortraitAnimationOptions options = null)
        {
            options = options ?? new PortraitAnimationOptions();
            RequestChecks.Seed(seed);
            RequestChecks.Frames(frames, Drivers.FramesMin, Drivers.FramesMax);
            Validate(options);
            if (Unconditional)
                return options.Animation == "interpolate" ? InterpolateUnconditional(seed, frames, options) : EditAnimation(seed, frames, options);
            var batch = LabelBatch(new[] { seed }, options);
            var codes = batch.Codes[0];
            float[] weights = Labels.Weights(codes);
            var labels = Labels.Readable(codes);
            if (options.Animation == "interpolate") return Interpolate(seed, frames, options, batch, weights, labels);
            bool blink = options.Animation == "blink";
            string column = blink ? LabelModel.Eyes : LabelModel.Mouth;
            LabelColumn col = Labels.Column(column);
            if (col == null) throw ManifestFields.Bad("label_space", "has no '" + column + "' column to animate");
            string still = col.Values[codes[column]];
            string[] states = null;
            List<string> chosen;
            List<string> frameShapes = null;
            CueTrack lipSync = null;
            bool spoken = !string.IsNullOrEmpty(options.Text);
            bool cued = !string.IsNullOrEmpty(options.Cues) || spoken;
            if (options.Animation == "mouths" || cued)
            {
                // mouths: the nine shape frames A-H, X, cycling when more frames are asked
                // for; cues: the shape each frame shows, played as the file times it
                var shapeOf = Labels.ShapeMouths(still);
                if (spoken)
                {
                    lipSync = TextTrack(options);
                    frameShapes = CueFiles.FrameShapes(lipSync, options.Fps, frames);
                }
                else if (cued) frameShapes = CueFiles.FrameShapes(CueFiles.Read(options.Cues), options.Fps, frames);
                else
                {
                    frameShapes = new List<string>();
                    for (int k = 0; k < frames; k++) frameShapes.Add(Shapes[k % Shapes.Length]);
                }
                chosen = new List<string>();
                foreach (string shape in frameShapes) chosen.Add(shapeOf[shape]);
            }
            else
            {
                if (blink)
                {
                    states = Labels.EyesPair(still, seed);
                }
                else
                {
                    string[] m = Labels.MouthStates(still, seed);
                    states = m[1] == null ? new[] { m[0], m[2] } : m;
                }
                float[] curve = blink ? Drivers.BlinkCurve(frames, options.Fps, seed) : Drivers.TalkCycle(frames, options.Fps, seed);
                chosen = StatesByCurve(curve, options.Strength, states, still);
            }
            // blink: one drawing per frame; talk: each distinct mouth once, the still's first
            var drawn = new List<string>();
            if (blink) drawn.AddRange(chosen);
            else
            {
                drawn.Add(still);
                var others = new List<string>();
                foreach (string m in chosen) if (m != still && !others.Contains(m)) others.Add(m);
                others.Sort(string.CompareOrdinal);
                drawn.AddRange(others);
            }
            List<float[]> rows = Labels.FramesOf(weights, column, drawn);
            float[] w; float[] m16; float[] m32; long[] s16; long[] s32;
            MapLabels(rows, Labels.Size, out w, out m16, out s16, out m32, out s32);
            int perWs = NumWs * WDim;
            var ws = new float[drawn.Count * perWs];
            for (int i = 0; i < drawn.Count; i++) Array.Copy(batch.Ws, 0, ws, i * perWs, perWs);
            var images = Synthesise(ws, m16, s16, m32, s32, drawn.Count);
            var frameList = new List<byte[]>();
            if (blink)
            {
                frameList.AddRange(images.Pixels);
            }
            else
            {
                var byMouth = new Dictionary<string, byte[]>(StringComparer.Ordinal) { { still, images.Pixels[0] } };
                for (int i = 1; i < drawn.Count; i++)
                {
                    float[] mask = Labels.MouthWeights(still, drawn[i], images.Height);
                    byMouth[drawn[i]] = mask == null ? images.Pixels[i] : KeepLocal(images.Pixels[0], images.Pixels[i], mask);
                }
                foreach (string m in chosen) frameList.Add((byte[])byMouth[m].Clone());
            }
            return new PortraitAnimation(images.Width, images.Height, options.Fps, frameList, labels, states, chosen) { FrameShapes = frameShapes, LipSync = lipSync };
        }

        /// <summary>The nine Rhubarb Lip Sync mouth shapes, in the order of the mouths sheet.</summary>
        public static readonly string[] Shapes = { "A", "B", "C", "D", "E", "F", "G", "H", "X" };

        // plugin.py _states_by_curve, in numpy's float32 arithmetic (NEP 50: the Python floats
        // start and strength become float32 next to the float32 curve)
        static List<string> StatesByCurve(float[] curve, double strength, string[] states, string value)
        {
            int index = Array.IndexOf(states, value);
            double startDouble = (double)index / (states.Length - 1);
            float start = (float)startDouble;
            float s = (float)strength;
            float last = states.Length - 1;
            var chosen = new List<string>();
            foreach (float c in curve)
            {
                float diff = c - start;
                float scaled = s * diff;
                float t = start + scaled;
                if (t < 0f) t = 0f;
                if (t > 1f) t = 1f;
                float position = t * last;
                float rounded = position + 0.5f;
                chosen.Add(states[(int)Math.Floor(rounded)]);
            }
            return chosen;
        }

        /// <summary>labels.py keep_local for one frame: the still outside the weights, the
        /// frame inside, blended on premultiplied colour at the half-weight border (float32).</summary>
        public static byte[] KeepLocal(byte[] still, byte[] frame, float[] weights)
        {
            var output = new byte[still.Length];
            float tiny = (float)1e-6;
            var mix = new float[4];
            for (int p = 0; p < weights.Length; p++)
            {
                int o = p * 4;
                float w = weights[p];
                if (w == 0f)
                {
                    Array.Copy(still, o, output, o, 4);
                    continue;
                }
                float sa = still[o + 3] / 255f;
                float fa = frame[o + 3] / 255f;
                for (int c = 0; c < 4; c++)
                {
                    float sv = still[o + c] / 255f;
                    float fv = frame[o + c] / 255f;
                    float sp = c < 3 ? sv * sa : sv;
                    float fp = c < 3 ? fv * fa : fv;
                    float diff = fp - sp;
                    float moved = w * diff;
                    mix[c] = sp + moved;
                }
                float alpha = mix[3];
                for (int c = 0; c < 4; c++)
                {
                    float v;
                    if (c == 3) v = alpha;
                    else if (alpha > 0f) v = mix[c] / Math.Max(alpha, tiny);
                    else v = 0f;
                    if (v < 0f) v = 0f;
                    if (v > 1f) v = 1f;
                    float scaled = v * 255f;
                    output[o + c] = (byte)Math.Round((double)scaled, MidpointRounding.ToEven);
                }
                if (output[o + 3] == 0)
                {
                    output[o] = 0;
                    output[o + 1] = 0;
                    output[o + 2] = 0;
                }
            }
            return output;
        }
    }
}
