// Test driver for tests/unity/test_compile.py: reads an AssetGen sprite sheet table with the
// Unity package's SpriteSheetTable (the importer's logic, without Unity) and prints what the
// importer would make, as JSON: sprites (Unity rects and pivots) and clips (frames, key
// times). A table it refuses prints "error: <message>" and exits 1.
using System;
using System.Globalization;
using System.Text;
using AssetGen.Editor;

static class SheetTableCheck
{
    static int Main(string[] args)
    {
        SpriteSheetTable table;
        try
        {
            table = SpriteSheetTable.Read(args[0]);
        }
        catch (FormatException ex)
        {
            Console.WriteLine("error: " + ex.Message);
            return 1;
        }
        var json = new StringBuilder();
        json.Append("{\"image\":\"").Append(table.Image).Append("\",\"assetgen\":").Append(table.FromAssetGen ? "true" : "false");
        json.Append(",\"padding\":").Append(table.Padding).Append(",\"sprites\":[");
        for (int i = 0; i < table.Sprites.Count; i++)
        {
            var s = table.Sprites[i];
            if (i > 0) json.Append(',');
            json.Append("{\"name\":\"").Append(s.Name).Append("\",\"x\":").Append(s.X).Append(",\"y\":").Append(s.Y)
                .Append(",\"w\":").Append(s.Width).Append(",\"h\":").Append(s.Height)
                .Append(",\"pivot\":[").Append(Number(s.PivotX)).Append(',').Append(Number(s.PivotY)).Append("]}");
        }
        json.Append("],\"clips\":[");
        for (int i = 0; i < table.Clips.Count; i++)
        {
            var c = table.Clips[i];
            if (i > 0) json.Append(',');
            json.Append("{\"name\":\"").Append(c.Name).Append("\",\"file\":\"").Append(c.FileName)
                .Append("\",\"frames\":[").Append(string.Join(",", c.Frames)).Append("],\"times\":[");
            for (int k = 0; k < c.Times.Count; k++) json.Append(k > 0 ? "," : "").Append(Number(c.Times[k]));
            json.Append("],\"rate\":").Append(Number(c.FrameRate)).Append(",\"length\":").Append(Number(c.Length)).Append('}');
        }
        Console.WriteLine(json.Append("]}").ToString());
        return 0;
    }

    static string Number(double value)
    {
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}
