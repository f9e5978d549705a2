// Timings of the C# runtime for dotnet_runtime/tools/bench_runtime.py, which times the Python
// API on the same work in the same run and prints the ratios.
//
//   mono AssetGen.Runtime.Bench.exe PORTRAITS_MODEL SHOES_MODEL REPEATS THREADS
//        [DIALOGUE_MODEL DIALOGUE_REPEATS [LSTM_MODEL LSTM_REPEATS]]
//
// Prints one JSON object: the median milliseconds of one portrait sprite, one 8-frame talk
// loop and one shoe icon (models loaded and one warm-up run of each first, seeds varied), with
// a dialogue model one dialogue line with the default options, and with a character-LSTM
// dialogue model (the Shakespeare model) one of its lines with the default options.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using AssetGen.Runtime;

static class RuntimeBench
{
    static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }

    static double Time(int repeats, Action<int> work)
    {
        work(-1); // warm-up
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            work(i);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return Median(times);
    }

    static int Main(string[] args)
    {
        if (args.Length != 4 && args.Length != 6 && args.Length != 8)
        {
            Console.Error.WriteLine("usage: AssetGen.Runtime.Bench.exe PORTRAITS_MODEL SHOES_MODEL REPEATS THREADS [DIALOGUE_MODEL DIALOGUE_REPEATS [LSTM_MODEL LSTM_REPEATS]]");
            return 2;
        }
        int repeats = int.Parse(args[2], CultureInfo.InvariantCulture);
        var settings = new SessionSettings { IntraOpThreads = int.Parse(args[3], CultureInfo.InvariantCulture) };
        using (var portraits = new PortraitsGenerator(args[0], settings))
        using (var shoes = new ShoesGenerator(args[1], settings))
        {
            double sprite = Time(repeats, i => portraits.Generate(1000 + i));
            double talk = Time(repeats, i => portraits.Animate(2000 + i, 8));
            double shoe = Time(repeats, i => shoes.Generate(3000 + i));
            string line = "";
            if (args.Length >= 6)
                using (var dialogue = new DialogueGenerator(args[4], settings))
                {
                    int lineRepeats = int.Parse(args[5], CultureInfo.InvariantCulture);
                    line = string.Format(CultureInfo.InvariantCulture, ", \"line_ms\": {0:F3}", Time(lineRepeats, i => dialogue.Generate(4000 + i)));
                }
            if (args.Length == 8)
                using (var lstm = new DialogueLstmGenerator(args[6], settings))
                {
                    int lstmRepeats = int.Parse(args[7], CultureInfo.InvariantCulture);
                    line += string.Format(CultureInfo.InvariantCulture, ", \"lstm_line_ms\": {0:F3}", Time(lstmRepeats, i => lstm.Generate(5000 + i)));
                }
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"sprite_ms\": {0:F3}, \"talk8_ms\": {1:F3}, \"shoe_ms\": {2:F3}{3}, \"onnxruntime\": \"{4}\"}}",
                sprite, talk, shoe, line, OnnxSession.RuntimeVersion));
        }
        return 0;
    }
}
