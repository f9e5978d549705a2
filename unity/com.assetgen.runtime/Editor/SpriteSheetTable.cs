// The frame table of an AssetGen sprite sheet (the `sheet` format: Aseprite's json-array layout
// plus a pivot per frame; docs/plugins/exporters.md), read into what Unity needs: sprite
// rects and pivots in Unity's coordinates (origin bottom-left) and the frames and key times of
// one clip per frame tag. No Unity types here, so this file compiles and is tested without the
// editor; SpriteSheetPostprocessor turns it into SpriteMetaData and AnimationClips.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using AssetGen.Runtime;

namespace AssetGen.Editor
{
    /// <summary>One frame of the sheet: its sprite's name, rect and pivot in Unity's
    /// coordinates (y up from the sheet's bottom edge, pivot y up from the frame's bottom).</summary>
    public sealed class SheetSprite
    {
        public string Name { get; internal set; }
        public int X { get; internal set; }
        public int Y { get; internal set; }
        public int Width { get; internal set; }
        public int Height { get; internal set; }
        public double PivotX { get; internal set; }
        public double PivotY { get; internal set; }
        public int DurationMs { get; internal set; }
    }

    /// <summary>One animation clip: the frame tag's name, the frames it shows in order and the
    /// time of each key in seconds. The last key repeats the last frame at the clip's end, so
    /// the last frame shows for its whole duration.</summary>
    public sealed class SheetClip
    {
        public string Name { get; internal set; }
        /// <summary>The tag's name as a file name: characters other than letters, digits,
        /// '-' and '_' become '_' (a tag of a sheet of several animations holds a '/').</summary>
        public string FileName { get; internal set; }
        public List<int> Frames { get; } = new List<int>();
        public List<double> Times { get; } = new List<double>();
        /// <summary>Keys per second for Unity's clip: one over the shortest frame.</summary>
        public double FrameRate { get; internal set; }
        public double Length { get; internal set; }
    }

    /// <summary>A parsed frame table; <see cref="FormatException"/> names the field that is
    /// missing or wrong.</summary>
    public sealed class SpriteSheetTable
    {
        public string App { get; private set; }
        /// <summary>meta.image: the sheet's PNG file name, next to the JSON.</summary>
        public string Image { get; private set; }
        public int SheetWidth { get; private set; }
        public int SheetHeight { get; private set; }
        public int Padding { get; private set; }
        public List<SheetSprite> Sprites { get; } = new List<SheetSprite>();
        public List<SheetClip> Clips { get; } = new List<SheetClip>();

        /// <summary>True when the JSON was written by AssetGen (meta.app is "assetgen").</summary>
        public bool FromAssetGen => App == "assetgen";

        public static SpriteSheetTable Read(string path)
        {
            return Parse(File.ReadAllText(path, new UTF8Encoding(false, true)));
        }

        /// <summary>True when <paramref name="text"/> looks like an AssetGen frame table, checked
        /// cheaply before a full parse (every JSON file of a project passes through the
        /// postprocessor).</summary>
        public static bool LooksLikeSheet(string text)
        {
            return text != null && text.Contains("\"frames\"") && text.Contains("\"assetgen\"");
        }

        public static SpriteSheetTable Parse(string text)
        {
            var root = Json.Parse(text) as Dictionary<string, object>;
            if (root == null) throw Bad("the file", "is not a JSON object");
            var meta = Object(root, "meta", "meta");
            var table = new SpriteSheetTable
            {
                App = OptionalString(meta, "app"),
                Image = String(meta, "image", "meta.image"),
            };
            var size = Object(meta, "size", "meta.size");
            table.SheetWidth = Int(size, "w", "meta.size.w", 1);
            table.SheetHeight = Int(size, "h", "meta.size.h", 1);
            object padding;
            table.Padding = meta.TryGetValue("padding", out padding) ? Int(meta, "padding", "meta.padding", 0) : 0;

            var frames = List(root, "frames", "frames");
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < frames.Count; i++)
            {
                string field = "frames[" + i + "]";
                var entry = frames[i] as Dictionary<string, object>;
                if (entry == null) throw Bad(field, "is not an object");
                var rect = Object(entry, "frame", field + ".frame");
                int x = Int(rect, "x", field + ".frame.x", 0), y = Int(rect, "y", field + ".frame.y", 0);
                int w = Int(rect, "w", field + ".frame.w", 1), h = Int(rect, "h", field + ".frame.h", 1);
                if (x + w > table.SheetWidth || y + h > table.SheetHeight)
                    throw Bad(field + ".frame", "lies outside the " + table.SheetWidth + " x " + table.SheetHeight + " sheet");
                double pivotX = 0.5, pivotY = 0.5;
                object pivotValue;
                if (entry.TryGetValue("pivot", out pivotValue))
                {
                    var pivot = Object(entry, "pivot", field + ".pivot");
                    pivotX = Fraction(pivot, "x", field + ".pivot.x");
                    pivotY = Fraction(pivot, "y", field + ".pivot.y");
                }
                string name = String(entry, "filename", field + ".filename");
                if (!names.Add(name)) throw Bad(field + ".filename", "repeats the name " + name);
                object durationValue;
                int duration = entry.TryGetValue("duration", out durationValue) ? Int(entry, "duration", field + ".duration", 1) : 100;
                table.Sprites.Add(new SheetSprite
                {
                    // Unity names sprites without the file extension Aseprite and TexturePacker keep
                    Name = name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? name.Substring(0, name.Length - 4) : name,
                    X = x,
                    // the table counts y down from the top; Unity up from the bottom
                    Y = table.SheetHeight - y - h,
                    Width = w,
                    Height = h,
                    PivotX = pivotX,
                    PivotY = 1.0 - pivotY,
                    DurationMs = duration,
                });
            }
            if (table.Sprites.Count == 0) throw Bad("frames", "is empty");

            object tagsValue;
            if (meta.TryGetValue("frameTags", out tagsValue))
            {
                var tags = List(meta, "frameTags", "meta.frameTags");
                for (int i = 0; i < tags.Count; i++)
                    table.Clips.Add(table.ClipOf(tags[i], "meta.frameTags[" + i + "]"));
            }
            return table;
        }

        SheetClip ClipOf(object value, string field)
        {
            var tag = value as Dictionary<string, object>;
            if (tag == null) throw Bad(field, "is not an object");
            string name = String(tag, "name", field + ".name");
            int from = Int(tag, "from", field + ".from", 0), to = Int(tag, "to", field + ".to", 0);
            if (from > to || to >= Sprites.Count)
                throw Bad(field, "runs from frame " + from + " to " + to + "; the sheet has frames 0 to " + (Sprites.Count - 1));
            string direction = OptionalString(tag, "direction") ?? "forward";
            var order = new List<int>();
            for (int k = from; k <= to; k++) order.Add(k);
            if (direction == "reverse") order.Reverse();
            else if (direction == "pingpong")
                for (int k = to - 1; k > from; k--) order.Add(k);
            else if (direction != "forward")
                throw Bad(field + ".direction", "must be forward, reverse or pingpong; got " + direction);

            var clip = new SheetClip { Name = name, FileName = SafeName(name) };
            double time = 0.0;
            int shortest = int.MaxValue;
            foreach (int k in order)
            {
                clip.Frames.Add(k);
                clip.Times.Add(time);
                time += Sprites[k].DurationMs / 1000.0;
                shortest = Math.Min(shortest, Sprites[k].DurationMs);
            }
            clip.Frames.Add(order[order.Count - 1]);
            clip.Times.Add(time);
            clip.Length = time;
            clip.FrameRate = 1000.0 / shortest;
            return clip;
        }

        /// <summary><paramref name="name"/> with every character other than a letter, digit, '-'
        /// or '_' replaced by '_'.</summary>
        public static string SafeName(string name)
        {
            var safe = new StringBuilder(name.Length);
            foreach (char c in name)
                safe.Append(char.IsLetterOrDigit(c) && c < 128 || c == '-' || c == '_' ? c : '_');
            return safe.ToString();
        }

        static FormatException Bad(string field, string why)
        {
            return new FormatException("sprite sheet table: " + field + " " + why);
        }

        static Dictionary<string, object> Object(Dictionary<string, object> parent, string key, string field)
        {
            object value;
            var obj = parent.TryGetValue(key, out value) ? value as Dictionary<string, object> : null;
            if (obj == null) throw Bad(field, "is missing or not an object");
            return obj;
        }

        static List<object> List(Dictionary<string, object> parent, string key, string field)
        {
            object value;
            var list = parent.TryGetValue(key, out value) ? value as List<object> : null;
            if (list == null) throw Bad(field, "is missing or not an array");
            return list;
        }

        static string String(Dictionary<string, object> parent, string key, string field)
        {
            string text = OptionalString(parent, key);
            if (string.IsNullOrEmpty(text)) throw Bad(field, "is missing or not a non-empty string");
            return text;
        }

        static string OptionalString(Dictionary<string, object> parent, string key)
        {
            object value;
            return parent.TryGetValue(key, out value) ? value as string : null;
        }

        static int Int(Dictionary<string, object> parent, string key, string field, int min)
        {
            object value;
            if (!parent.TryGetValue(key, out value) || !(value is long) || (long)value < min || (long)value > int.MaxValue)
                throw Bad(field, "must be an integer of at least " + min + "; got " + Describe(value));
            return (int)(long)value;
        }

        static double Fraction(Dictionary<string, object> parent, string key, string field)
        {
            object value;
            parent.TryGetValue(key, out value);
            double number = value is long ? (long)value : value is double ? (double)value : double.NaN;
            if (!(number >= 0.0 && number <= 1.0))
                throw Bad(field, "must be a number from 0 to 1; got " + Describe(value));
            return number;
        }

        static string Describe(object value)
        {
            if (value == null) return "nothing";
            if (value is string) return "\"" + value + "\"";
            if (value is double) return ((double)value).ToString("R", CultureInfo.InvariantCulture);
            return Convert.ToString(value, CultureInfo.InvariantCulture);
        }
    }
}
