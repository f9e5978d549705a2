// Checks AssetGen.Runtime.SeedStream against the vectors written by assetgen.seed_vectors
// (tests/fixtures/seed_vectors.json): the same keys, draws, uniforms, integers, normals,
// categorical picks, log and sin/cos bits as Python. Exit code 0 when all match.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Json;
using AssetGen.Runtime;

static class SeedTests
{
    static int failures;
    static int checks;

    static double FromHex(string hex)
    {
        return BitConverter.Int64BitsToDouble(unchecked((long)ulong.Parse(hex, NumberStyles.HexNumber)));
    }

    static string Hex(double x)
    {
        return unchecked((ulong)BitConverter.DoubleToInt64Bits(x)).ToString("x16");
    }

    static void Same(string what, string expected, string actual)
    {
        checks++;
        if (expected != actual)
        {
            failures++;
            Console.WriteLine("FAIL " + what + ": expected " + expected + ", got " + actual);
        }
    }

    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.WriteLine("usage: AssetGen.Runtime.Tests.exe seed_vectors.json");
            return 2;
        }
        var root = (JsonObject)JsonValue.Parse(File.ReadAllText(args[0]));
        foreach (JsonValue c in (JsonArray)root["streams"])
        {
            long seed = (long)c["seed"];
            string purpose = (string)c["purpose"];
            long index = (long)c["index"];
            string id = seed + "/" + purpose + "/" + index;
            Func<SeedStream> fresh = () => new SeedStream(seed, purpose, index);
            var s = fresh();
            Same(id + " key", (string)c["key"], s.Key.ToString(CultureInfo.InvariantCulture));
            int k = 0;
            foreach (JsonValue b in (JsonArray)c["bits"])
            {
                Same(id + " bits[" + k++ + "]", (string)b, s.NextBits().ToString(CultureInfo.InvariantCulture));
            }
            s = fresh();
            k = 0;
            foreach (JsonValue r in (JsonArray)c["random"])
            {
                Same(id + " random[" + k++ + "]", (string)r, Hex(s.NextDouble()));
            }
            var below = (JsonArray)c["below_14"];
            Same(id + " integers(14)", ((int)below[0]).ToString(), fresh().Below(14).ToString());
            s = fresh();
            for (k = 1; k < below.Count; k++)
            {
                Same(id + " below[" + k + "]", ((int)below[k]).ToString(), s.Below(14).ToString());
            }
            var normals = (JsonArray)c["normal"];
            var made = fresh().StandardNormal(normals.Count);
            for (k = 0; k < normals.Count; k++)
            {
                Same(id + " normal[" + k + "]", (string)normals[k], Hex(made[k]));
            }
            Same(id + " uniform", (string)((JsonArray)c["uniform_0.8_1.25"])[0], Hex(fresh().Uniform(0.8, 1.25)));
            Same(id + " choice", ((int)((JsonArray)c["choice_1_2_0_5"])[0]).ToString(),
                fresh().ChoiceIndex(new[] { 1.0, 2.0, 0.0, 5.0 }).ToString());
        }
        foreach (JsonValue row in (JsonArray)root["sincos_turns"])
        {
            double u = FromHex((string)row[0]);
            SeedStream.SinCosTurns(u, out double sin, out double cos);
            Same("sin(" + u.ToString("R") + ")", (string)row[1], Hex(sin));
            Same("cos(" + u.ToString("R") + ")", (string)row[2], Hex(cos));
        }
        foreach (JsonValue row in (JsonArray)root["log"])
        {
            double x = FromHex((string)row[0]);
            Same("log(" + x.ToString("R") + ")", (string)row[1], Hex(SeedStream.Log(x)));
        }
        Console.WriteLine(checks + " checks, " + failures + " failed");
        return failures == 0 ? 0 : 1;
    }
}
