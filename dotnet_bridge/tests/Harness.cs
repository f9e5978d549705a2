using System;
using System.Collections.Generic;
using System.Text;

namespace AssetGen.Bridge.Tests
{
    /// <summary>A minimal test runner: named checks, one PASS/FAIL line each, and the closing
    /// "N passed, N failed" line the Python test suite reads.</summary>
    sealed class Harness
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }

        public void Check(string name, Action body)
        {
            try
            {
                body();
                Passed++;
                Console.WriteLine("PASS " + name);
            }
            catch (Exception ex)
            {
                Failed++;
                Console.WriteLine("FAIL " + name + ": " + ex);
            }
        }

        public void Report()
        {
            Console.WriteLine(string.Format("{0} passed, {1} failed", Passed, Failed));
        }
    }

    sealed class CheckFailed : Exception
    {
        public CheckFailed(string message) : base(message) { }
    }

    static class Assert
    {
        public static void True(bool condition, string what)
        {
            if (!condition)
                throw new CheckFailed(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new CheckFailed(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
        }

        public static void Bytes(byte[] expected, byte[] actual, string what)
        {
            if (actual == null)
                throw new CheckFailed(what + ": got null");
            int n = Math.Min(expected.Length, actual.Length);
            for (int i = 0; i < n; i++)
                if (expected[i] != actual[i])
                    throw new CheckFailed(string.Format(
                        "{0}: first difference at byte {1} of {2}: expected {3}, got {4}",
                        what, i, expected.Length, expected[i], actual[i]));
            if (expected.Length != actual.Length)
                throw new CheckFailed(string.Format("{0}: expected {1} bytes, got {2}",
                                                    what, expected.Length, actual.Length));
        }

        public static void Contains(string needle, string haystack, string what)
        {
            if (haystack == null || !haystack.Contains(needle))
                throw new CheckFailed(string.Format("{0}: <{1}> not found in <{2}>", what, needle, haystack));
        }

        public static TException Throws<TException>(Action body, string what) where TException : Exception
        {
            try
            {
                body();
            }
            catch (TException ex)
            {
                return ex;
            }
            catch (Exception ex)
            {
                throw new CheckFailed(string.Format("{0}: expected {1}, got {2}",
                                                    what, typeof(TException).Name, ex));
            }
            throw new CheckFailed(string.Format("{0}: expected {1}, nothing was thrown",
                                                what, typeof(TException).Name));
        }

        public static string Utf8(byte[] bytes)
        {
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
