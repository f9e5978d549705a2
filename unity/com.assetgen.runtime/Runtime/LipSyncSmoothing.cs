// Smoothing a cue track and the in-between frames (Python:
// plugins/assetgen_portraits/lipsync/smoothing.py smooth, tween and _frame_indices), on the
// 10 ms grid: a minimum hold (short cues merge into a neighbour, a lone short syllable is
// lengthened), no single-frame flicker at the frame rate, rest (X) kept as silence; then one
// in-between frame where the shown shape jumps between far shapes (A/X <-> D: C, F <-> D: E).
using System;
using System.Collections.Generic;

namespace AssetGen.Runtime
{
    public static class LipSyncSmoothing
    {
        public const double DefaultMinHold = 0.06, MaxMinHold = 0.5;
        const int TweenDonorFrames = 3;

        sealed class Span
        {
            public string Shape;
            public int Start, End;
            public Span(string shape, int start, int end) { Shape = shape; Start = start; End = end; }
            public int Length => End - Start;
        }

        // _filled: the track's cues on the grid from 0 to its end, gaps as X, equal ones merged
        static List<Span> Filled(CueTrack track)
        {
            int total = Math.Max(1, CueFiles.Ticks(track.Duration));
            var spans = new List<Span>();
            foreach (var c in CueFiles.BuildCues(track.Cues, total)) spans.Add(new Span(c.Shape, c.Start, c.End));
            return spans;
        }

        static List<Span> MergeEqual(List<Span> cues)
        {
            var output = new List<Span>();
            foreach (var cue in cues)
            {
                if (cue.End <= cue.Start) continue;
                if (output.Count > 0 && output[output.Count - 1].Shape == cue.Shape) output[output.Count - 1].End = cue.End;
                else output.Add(new Span(cue.Shape, cue.Start, cue.End));
            }
            return output;
        }

        static List<Span> Absorb(List<Span> cues, int index, int into)
        {
            Span cue = cues[index], other = cues[into];
            int start = Math.Min(other.Start, cue.Start), end = Math.Max(other.End, cue.End);
            other.Start = start;
            other.End = end;
            cues.RemoveAt(index);
            return MergeEqual(cues);
        }

        // the shortest of two or more candidates by (length, index)
        static int Shortest(List<Span> cues, List<int> candidates)
        {
            int best = candidates[0];
            foreach (int i in candidates)
                if (cues[i].Length < cues[best].Length || (cues[i].Length == cues[best].Length && i < best)) best = i;
            return best;
        }

        static List<Span> HoldStep(List<Span> cues, double hold)
        {
            int last = cues.Count - 1;
            var shortOnes = new List<int>();
            for (int i = 0; i < cues.Count; i++)
                if (cues[i].Length < hold - 1e-9 && last > 0 && !(cues[i].Shape == "X" && (i == 0 || i == last))) shortOnes.Add(i);
            if (shortOnes.Count == 0) return null;
            int index = Shortest(cues, shortOnes);
            string shape = cues[index].Shape;
            var around = new List<int>();
            foreach (int i in new[] { index - 1, index + 1 }) if (i >= 0 && i <= last) around.Add(i);
            var speaking = around.FindAll(i => cues[i].Shape != "X");
            if (speaking.Count > 0) return Absorb(cues, index, Shortest(cues, speaking));
            if (shape == "X") return Absorb(cues, index, around[0]);
            int need = (int)Math.Ceiling(hold - 1e-9) - cues[index].Length;
            foreach (int neighbour in new[] { index + 1, index - 1 })
            {
                if (need <= 0 || neighbour < 0 || neighbour > last) continue;
                Span rest = cues[neighbour];
                int take = Math.Min(need, rest.Length);
                if (neighbour > index)
                {
                    cues[index].End += take;
                    rest.Start += take;
                }
                else
                {
                    cues[index].Start -= take;
                    rest.End -= take;
                }
                need -= take;
            }
            return MergeEqual(cues);
        }

        // For each frame the index of the cue shown (-1: past the end)
        static int[] FrameIndices(List<Span> cues, double fps, int frames)
        {
            var starts = new int[cues.Count];
            var ends = new int[cues.Count];
            for (int i = 0; i < cues.Count; i++) { starts[i] = cues[i].Start; ends[i] = cues[i].End; }
            return CueAtFrames(starts, ends, fps, frames);
        }

        /// <summary>For each of <paramref name="frames"/> frames at <paramref name="fps"/>, the
        /// index of the cue (start and end in 1/100 s ticks, in time order) that overlaps the
        /// frame most, the earliest on a tie; -1 where none does. Shared by the smoothing and
        /// by <see cref="CueFiles.FrameShapes"/>.</summary>
        internal static int[] CueAtFrames(int[] starts, int[] ends, double fps, int frames)
        {
            var shown = new int[frames];
            int position = 0;
            for (int k = 0; k < frames; k++)
            {
                double lo = k / fps * 100, hi = (k + 1) / fps * 100;
                while (position < starts.Length && ends[position] <= lo) position++;
                int best = -1;
                double bestOverlap = 0.0;
                for (int j = position; j < starts.Length && starts[j] < hi; j++)
                {
                    double overlap = Math.Min(hi, ends[j]) - Math.Max(lo, starts[j]);
                    if (overlap > bestOverlap + 1e-9)
                    {
                        best = j;
                        bestOverlap = overlap;
                    }
                }
                shown[k] = best;
            }
            return shown;
        }

        static List<Span> FlickerStep(List<Span> cues, double fps)
        {
            int total = cues[cues.Count - 1].End;
            double product = total / 100.0 * fps;
            int frames = Math.Max(1, (int)Math.Floor(product + 0.5));
            int[] shown = FrameIndices(cues, fps, frames);
            var shapes = new string[frames];
            for (int k = 0; k < frames; k++) shapes[k] = shown[k] >= 0 ? cues[shown[k]].Shape : "X";
            for (int k = 1; k < frames - 1; k++)
            {
                if (shapes[k - 1] == shapes[k + 1] && shapes[k + 1] != shapes[k] && shown[k] >= 0)
                {
                    int index = shown[k];
                    var around = new List<int>();
                    foreach (int i in new[] { index - 1, index + 1 }) if (i >= 0 && i < cues.Count) around.Add(i);
                    var matching = around.FindAll(i => cues[i].Shape == shapes[k - 1]);
                    return Absorb(cues, index, (matching.Count > 0 ? matching : around)[0]);
                }
            }
            return null;
        }

        static CueTrack With(CueTrack track, List<CueTick> cues, double duration)
        {
            return new CueTrack(cues, duration, track.Method, track.SoundFile)
            {
                Source = track.Source,
                Extended = track.Extended,
                Words = track.Words,
                Phones = track.Phones,
            };
        }

        static List<CueTick> Ticks(List<Span> spans)
        {
            var cues = new List<CueTick>();
            foreach (var s in spans) cues.Add(new CueTick { Shape = s.Shape, Start = s.Start, End = s.End });
            return cues;
        }

        /// <summary>The track with the smoothing rules applied (idempotent): minimum hold of
        /// <paramref name="minHold"/> seconds, and with a frame rate no single-frame flicker.</summary>
        public static CueTrack Smooth(CueTrack track, double minHold = DefaultMinHold, double? fps = null)
        {
            if (double.IsNaN(minHold) || double.IsInfinity(minHold) || minHold < 0.0 || minHold > MaxMinHold)
                throw new InvalidOptionsException("option 'min_hold' must be a number in [0, " + PyText.G(MaxMinHold) + "] (seconds); got " + PyText.Repr(minHold), "min_hold", minHold);
            double hold = minHold * 100;
            if (fps.HasValue) CheckFps(fps.Value);
            var cues = MergeEqual(Filled(track));
            for (int i = 0; i < 100000; i++)
            {
                var step = HoldStep(cues, hold);
                if (step == null && fps.HasValue) step = FlickerStep(cues, fps.Value);
                if (step == null) break;
                cues = step;
            }
            return With(track, Ticks(cues), cues[cues.Count - 1].End / 100.0);
        }

        static void CheckFps(double fps)
        {
            if (double.IsNaN(fps) || double.IsInfinity(fps) || fps < CueFiles.FpsMin || fps > CueFiles.FpsMax)
                throw new InvalidOptionsException("option 'fps' must be a number in [" + PyText.G(CueFiles.FpsMin) + ", " + PyText.G(CueFiles.FpsMax) + "] (frames per second); got " + PyText.Repr(fps), "fps", fps);
        }

        static string Tween(string a, string b)
        {
            if ((a == "A" && b == "D") || (a == "D" && b == "A")) return "C";
            if ((a == "X" && b == "D") || (a == "D" && b == "X")) return "C";
            if ((a == "F" && b == "D") || (a == "D" && b == "F")) return "E";
            return null;
        }

        /// <summary>The track with one in-between frame where, at <paramref name="fps"/>, the
        /// shown shape jumps between two far shapes (Python: lipsync.tween).</summary>
        public static CueTrack Tween(CueTrack track, double fps)
        {
            CheckFps(fps);
            var cues = Filled(track);
            int count = CueFiles.TrackFrames(track, fps);
            int[] shown = FrameIndices(cues, fps, count);
            var runs = new List<Span>(); // shape, first frame, end frame
            for (int k = 0; k < count; k++)
            {
                string shape = shown[k] >= 0 ? cues[shown[k]].Shape : "X";
                if (runs.Count > 0 && runs[runs.Count - 1].Shape == shape) runs[runs.Count - 1].End = k + 1;
                else runs.Add(new Span(shape, k, k + 1));
            }
            var marked = new List<KeyValuePair<int, string>>();
            for (int r = 0; r + 1 < runs.Count; r++)
            {
                Span before = runs[r], after = runs[r + 1];
                string middle = Tween(before.Shape, after.Shape);
                if (middle == null) continue;
                bool longBefore = before.Length >= after.Length;
                Span donor = longBefore ? before : after;
                if (donor.Length < TweenDonorFrames) continue;
                int frame = longBefore ? before.End - 1 : after.Start;
                int taken = 0;
                foreach (var m in marked) if (donor.Start <= m.Key && m.Key < donor.End) taken++;
                if (donor.Length - taken < 3) continue;
                marked.Add(new KeyValuePair<int, string>(frame, middle));
            }
            if (marked.Count == 0) return track;
            var segments = Ticks(cues);
            foreach (var m in marked)
            {
                double a = m.Key * 100 / fps, b = (m.Key + 1) * 100 / fps;
                int start = (int)Math.Floor(a + 0.5), end = (int)Math.Floor(b + 0.5);
                segments.Add(new CueTick { Shape = m.Value, Start = start, End = Math.Max(end, start + 1) });
            }
            return With(track, CueFiles.BuildCues(segments, cues[cues.Count - 1].End), track.Duration);
        }
    }
}
