// Rhubarb Lip Sync cue files for the talk animation (Python:
// plugins/assetgen_portraits/lipsync/cues.py read_cues, shapes.py build_cues and ticks,
// smoothing.py frame_shapes and track_frames). JSON ({"mouthCues": [{"start", "end",
// "value"}]}) or TSV ("<seconds>\t<shape>" lines, the last one's time the end), read onto the
// 10 ms grid; a cue file is played as its author timed it (no smoothing). Frame k at fps shows
// the shape covering most of [k / fps, (k + 1) / fps) (ties: the earlier cue), X past the end.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace AssetGen.Runtime
{
    /// <summary>One mouth shape held from <see cref="Start"/> to <see cref="End"/> ticks
    /// (hundredths of a second).</summary>
    public struct CueTick
    {
        public string Shape;
        public int Start;
        public int End;
    }

    /// <summary>A cue track on the 10 ms grid: contiguous cues from 0 to the end, gaps as X.</summary>
    public sealed class CueTrack
    {
        public List<CueTick> Cues { get; }
        /// <summary>Length in seconds (ticks / 100).</summary>
        public double Duration { get; }
        public string Method { get; }
        public string SoundFile { get; }
        /// <summary>Which driver made it: "cues" (a cue file) or "text" (LipSyncText).</summary>
        public string Source { get; internal set; } = "cues";
        /// <summary>Whether the extended shapes G and H were used (a text track).</summary>
        public bool Extended { get; internal set; } = true;
        /// <summary>The timed words and phones behind the cues (a text track; else empty).</summary>
        public List<TimedName> Words { get; internal set; } = new List<TimedName>();
        public List<TimedName> Phones { get; internal set; } = new List<TimedName>();

        internal CueTrack(List<CueTick> cues, double duration, string method, string soundFile)
        {
            Cues = cues;
            Duration = duration;
            Method = method;
            SoundFile = soundFile;
        }
    }

    public static class CueFiles
    {
        public static readonly string[] Shapes = { "A", "B", "C", "D", "E", "F", "G", "H", "X" };
        public const double MaxSeconds = 60.0;
        public const int MaxCueBytes = 2 * 1024 * 1024;
        public const int MaxCues = (int)(MaxSeconds * 100);
        public const double FpsMin = 1.0, FpsMax = 120.0;
        public const int MaxShapeFrames = 7200;

        /// <summary>Seconds to whole centiseconds (nearest, halves up).</summary>
        public static int Ticks(double seconds)
        {
            double hundred = seconds * 100;
            return (int)Math.Floor(hundred + 0.5);
        }

        static InvalidOptionsException Error(string path, string reason)
        {
            return new InvalidOptionsException("option 'cues': cannot use " + PyText.Repr(path) + ": " + reason
                + ". Expected a Rhubarb Lip Sync cue file: JSON ({\"mouthCues\": [{\"start\", \"end\", \"value\"}]}) or TSV (lines '<seconds>\\t<shape>'), shapes "
                + string.Join("", Shapes) + ", at most " + PyText.G(MaxSeconds) + " s", "cues", path);
        }

        static string Cut(string text, int limit)
        {
            return text.Length <= limit ? text : text.Substring(0, limit);
        }

        static string Repr(object value)
        {
            if (value == null) return "None";
            if (value is string s) return PyText.Repr(s);
            if (value is bool b) return b ? "True" : "False";
            if (value is long l) return l.ToString(CultureInfo.InvariantCulture);
            if (value is double d) return PyText.Repr(d);
            if (value is List<object>) return "[...]";
            return "{...}";
        }

        static double Time(object value, string where, string path)
        {
            if (!(value is long) && !(value is double))
                throw Error(path, Cut(where + " is " + Repr(value) + ", not a number of seconds", 300));
            double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            if (double.IsNaN(number) || double.IsInfinity(number) || number < 0)
                throw Error(path, where + " is " + Repr(value) + "; times must be finite and not negative");
            if (number > MaxSeconds + 0.005)
                throw Error(path, where + " is " + PyText.G(number) + " s, past the " + PyText.G(MaxSeconds) + " s limit");
            return number;
        }

        static string Shape(object value, string where, string path)
        {
            string s = value as string;
            string key = s == null ? null : s.Trim().ToUpperInvariant();
            if (key == null || Array.IndexOf(Shapes, key) < 0)
                throw Error(path, Cut(where + " is " + Repr(value) + ", not a mouth shape (" + string.Join(", ", Shapes) + ")", 300));
            return key;
        }

        /// <summary>Reads a Rhubarb JSON or TSV cue file (JSON when it starts with '{');
        /// problems are <see cref="InvalidOptionsException"/>s for the option 'cues' with
        /// the Python API's messages.</summary>
        public static CueTrack Read(string path)
        {
            if (string.IsNullOrEmpty(path))
                throw new InvalidOptionsException("option 'cues' must be a path to a Rhubarb JSON or TSV cue file; got " + PyText.Repr(path ?? ""), "cues", path);
            if (Directory.Exists(path)) throw Error(path, "it is a directory");
            if (!File.Exists(path)) throw Error(path, "no such file");
            byte[] bytes;
            try
            {
                long size = new FileInfo(path).Length;
                if (size > MaxCueBytes) throw Error(path, "the file is " + size + " bytes, more than " + MaxCueBytes);
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw Error(path, "cannot read it (" + ex.Message + ")");
            }
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (ArgumentException)
            {
                throw Error(path, "not UTF-8 text");
            }
            if (text.Length > 0 && text[0] == '\uFEFF') text = text.Substring(1);
            if (text.Trim().Length == 0) throw Error(path, "the file is empty");
            return text.TrimStart().StartsWith("{", StringComparison.Ordinal) ? FromJson(path, text) : FromTsv(path, text);
        }

        static CueTrack FromJson(string path, string text)
        {
            object parsed;
            try
            {
                parsed = Json.Parse(text);
            }
            catch (FormatException ex)
            {
                throw Error(path, "not valid JSON (" + ex.Message + ")");
            }
            var data = parsed as Dictionary<string, object>;
            object cuesValue = null;
            if (data != null) data.TryGetValue("mouthCues", out cuesValue);
            var cues = cuesValue as List<object>;
            if (cues == null) throw Error(path, "the JSON has no \"mouthCues\" list");
            object metadataValue;
            var metadata = new Dictionary<string, object>();
            if (data.TryGetValue("metadata", out metadataValue))
            {
                metadata = metadataValue as Dictionary<string, object>;
                if (metadata == null) throw Error(path, "\"metadata\" is not an object");
            }
            double? duration = null;
            object d;
            if (metadata.TryGetValue("duration", out d) && d != null) duration = Time(d, "metadata.duration", path);
            object soundValue;
            string sound = "";
            if (metadata.TryGetValue("soundFile", out soundValue))
            {
                sound = soundValue as string;
                if (sound == null) throw Error(path, "metadata.soundFile is not a string");
            }
            if (cues.Count > MaxCues) throw Error(path, "it has " + cues.Count + " cues, more than " + MaxCues);
            var raw = new List<Tuple<double, double, string>>();
            for (int i = 0; i < cues.Count; i++)
            {
                int number = i + 1;
                var cue = cues[i] as Dictionary<string, object>;
                if (cue == null || !cue.ContainsKey("start") || !cue.ContainsKey("end") || !cue.ContainsKey("value"))
                    throw Error(path, "cue " + number + " is not an object with start, end and value");
                double start = Time(cue["start"], "cue " + number + " start", path);
                double end = Time(cue["end"], "cue " + number + " end", path);
                string shape = Shape(cue["value"], "cue " + number + " value", path);
                raw.Add(Tuple.Create(start, end, shape));
            }
            return Track(path, raw, duration, "rhubarb-json", sound.Length > 0 ? Path.GetFileName(sound) : "");
        }

        static CueTrack FromTsv(string path, string text)
        {
            var lines = new List<Tuple<double, string, int>>();
            string[] split = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
            if (split.Length > 0 && split[split.Length - 1].Length == 0) Array.Resize(ref split, split.Length - 1);
            for (int i = 0; i < split.Length; i++)
            {
                string line = split[i];
                int number = i + 1;
                if (line.Trim().Length == 0) continue;
                string[] fields = line.IndexOf('\t') >= 0 ? line.Split('\t') : line.Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length != 2)
                    throw Error(path, "line " + number + " is " + PyText.Repr(Cut(line, 40)) + ", not '<seconds>\\t<shape>'");
                double seconds;
                object value = fields[0];
                if (double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out seconds)) value = seconds;
                lines.Add(Tuple.Create(Time(value, "line " + number + " time", path), Shape(fields[1], "line " + number + " shape", path), number));
                if (lines.Count > MaxCues + 1) throw Error(path, "it has more than " + MaxCues + " cues");
            }
            if (lines.Count < 2) throw Error(path, "a TSV cue file needs at least two lines (a cue, then the end time)");
            var raw = new List<Tuple<double, double, string>>();
            for (int i = 0; i + 1 < lines.Count; i++)
            {
                double start = lines[i].Item1, end = lines[i + 1].Item1;
                if (end < start)
                    throw Error(path, "line " + (lines[i].Item3 + 1) + " goes back in time (" + PyText.G(end) + " s after " + PyText.G(start) + " s): lines must be in time order");
                if (end > start) raw.Add(Tuple.Create(start, end, lines[i].Item2));
            }
            return Track(path, raw, null, "rhubarb-tsv", "");
        }

        static CueTrack Track(string path, List<Tuple<double, double, string>> raw, double? duration, string method, string sound)
        {
            if (raw.Count == 0) throw Error(path, "it has no mouth cues");
            if (raw.Count > MaxCues) throw Error(path, "it has " + raw.Count + " cues, more than " + MaxCues);
            double previousStart = 0.0, previousEnd = 0.0;
            for (int i = 0; i < raw.Count; i++)
            {
                int number = i + 1;
                double start = raw[i].Item1, end = raw[i].Item2;
                if (end <= start)
                    throw Error(path, "cue " + number + " ends (" + PyText.G(end) + " s) before it starts (" + PyText.G(start) + " s)");
                if (start < previousStart)
                    throw Error(path, "cue " + number + " starts at " + PyText.G(start) + " s, before the cue before it: cues must be in time order");
                if (start < previousEnd - 0.005)
                    throw Error(path, "cue " + number + " starts at " + PyText.G(start) + " s, before the cue before it ends (" + PyText.G(previousEnd) + " s): cues must not overlap");
                previousStart = start;
                previousEnd = end;
            }
            int total = Ticks(previousEnd);
            if (duration.HasValue)
            {
                if (duration.Value < previousEnd - 0.01)
                    throw Error(path, "its duration (" + PyText.G(duration.Value) + " s) ends before its last cue (" + PyText.G(previousEnd) + " s)");
                total = Math.Max(total, Ticks(duration.Value));
            }
            if (total < 1) throw Error(path, "its cues last less than 10 ms");
            var segments = new List<CueTick>();
            foreach (var r in raw) segments.Add(new CueTick { Shape = r.Item3, Start = Ticks(r.Item1), End = Ticks(r.Item2) });
            return new CueTrack(BuildCues(segments, total), total / 100.0, method, sound);
        }

        /// <summary>Shapes on the tick grid -> contiguous cues from 0 to total ticks: later
        /// segments win, uncovered time is X, equal neighbours merge.</summary>
        public static List<CueTick> BuildCues(List<CueTick> segments, int total)
        {
            var grid = new string[total];
            for (int i = 0; i < total; i++) grid[i] = "X";
            foreach (var s in segments)
                for (int tick = Math.Max(0, s.Start); tick < Math.Min(total, s.End); tick++) grid[tick] = s.Shape;
            var cues = new List<CueTick>();
            int begin = 0;
            for (int tick = 1; tick <= total; tick++)
            {
                if (tick == total || grid[tick] != grid[begin])
                {
                    cues.Add(new CueTick { Shape = grid[begin], Start = begin, End = tick });
                    begin = tick;
                }
            }
            return cues;
        }

        /// <summary>Frames the track lasts at fps: round(duration * fps), halves up, at least 1.</summary>
        public static int TrackFrames(CueTrack track, double fps)
        {
            double product = track.Duration * fps;
            return Math.Max(1, (int)Math.Floor(product + 0.5));
        }

        /// <summary>The shape shown on each of <paramref name="frames"/> frames.</summary>
        public static List<string> FrameShapes(CueTrack track, double fps, int frames)
        {
            if (frames < 1 || frames > MaxShapeFrames)
                throw new InvalidOptionsException("option 'frames' must be an integer from 1 to " + MaxShapeFrames + "; got " + frames, "frames", frames);
            // _filled: the track's cues again on the grid (they already are), equal ones merged
            int total = Math.Max(1, Ticks(track.Duration));
            List<CueTick> cues = BuildCues(track.Cues, total);
            var starts = new int[cues.Count];
            var ends = new int[cues.Count];
            for (int i = 0; i < cues.Count; i++) { starts[i] = cues[i].Start; ends[i] = cues[i].End; }
            var shapes = new List<string>();
            foreach (int best in LipSyncSmoothing.CueAtFrames(starts, ends, fps, frames))
                shapes.Add(best >= 0 ? cues[best].Shape : "X");
            return shapes;
        }
    }
}
