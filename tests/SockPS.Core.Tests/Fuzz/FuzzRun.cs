using System;
using System.Globalization;
using System.Text;
using System.Threading.Tasks;

namespace SockPS.Core.Tests.Fuzz;

/// <summary>
/// The fuzz tests' settings and guards. Every case is drawn from a seeded <see cref="Random"/>,
/// so a failure names its seed and case number and repeats exactly.
///
/// SOCKPS_FUZZ_CASES sets how many cases each fuzz test runs (the normal suite uses each test's
/// own small default, a few hundred, well under ten seconds in all; <c>build.ps1 -Task Stress</c>
/// sets it much higher). SOCKPS_FUZZ_SEED changes the seed (default 20261202).
/// </summary>
internal static class FuzzRun
{
    /// <summary>How long one case may take before it counts as a hang.</summary>
    public static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);

    /// <summary>The number of cases: SOCKPS_FUZZ_CASES when set, else <paramref name="normal"/>.</summary>
    public static int Cases(int normal)
    {
        string? text = Environment.GetEnvironmentVariable("SOCKPS_FUZZ_CASES");
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int cases) && cases > 0 ? cases : normal;
    }

    public static int Seed
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable("SOCKPS_FUZZ_SEED");
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int seed) ? seed : 20261202;
        }
    }

    /// <summary>Runs every case, each on a worker with a time limit: a case that does not return
    /// within <see cref="CaseLimit"/> fails the test as a hang (naming the case), and an
    /// exception fails it with the case that caused it. Each case gets its own generator seeded
    /// from the run's seed and its number, so a failing case repeats by itself.</summary>
    public static void Run(string name, int normalCases, Action<Random, int> body)
    {
        int cases = Cases(normalCases);
        int seed = Seed;
        for (int i = 0; i < cases; i++)
        {
            int caseSeed = unchecked(seed * 31 + i);
            Random random = new(caseSeed);
            int number = i;
            Task task = Task.Run(() => body(random, number));
            bool finished;
            try
            {
                finished = task.Wait(CaseLimit);
            }
            catch (AggregateException ex)
            {
                Exception inner = ex.InnerException ?? ex;
                throw new Xunit.Sdk.XunitException(
                    $"{name}: case {i} (seed {seed}, case seed {caseSeed}) failed: {inner.GetType().FullName}: {inner.Message}\n{inner.StackTrace}");
            }

            if (!finished)
            {
                throw new Xunit.Sdk.XunitException($"{name}: case {i} (seed {seed}, case seed {caseSeed}) did not finish within {CaseLimit.TotalSeconds} s: a hang.");
            }
        }
    }

    /// <summary>Runs <paramref name="action"/>; an exception is allowed only when it is SockPS's
    /// documented one (<see cref="SocketOperationException"/>, with a kind in
    /// <paramref name="kinds"/> and a message); anything else fails, naming the input.</summary>
    public static SocketOperationException? OnlySockPSErrors(string input, Action action, params SocketFailureKind[] kinds)
    {
        try
        {
            action();
            return null;
        }
        catch (SocketOperationException ex)
        {
            if (kinds.Length > 0 && Array.IndexOf(kinds, ex.Kind) < 0)
            {
                throw new Xunit.Sdk.XunitException($"Input {Show(input)}: SocketOperationException of kind {ex.Kind}, expected one of {string.Join(", ", kinds)}: {ex.Message}");
            }

            if (string.IsNullOrWhiteSpace(ex.Message))
            {
                throw new Xunit.Sdk.XunitException($"Input {Show(input)}: SocketOperationException ({ex.Kind}) with no message.");
            }

            return ex;
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"Input {Show(input)}: {ex.GetType().FullName} escaped, not a SockPS error: {ex.Message}\n{ex.StackTrace}");
        }
    }

    /// <summary>A string for a failure message: escaped, so control characters show.</summary>
    public static string Show(string? text) => text is null ? "(null)" : "\"" + EndPointText.Escape(text) + "\"";

    /// <summary>Random text from <paramref name="alphabet"/>, up to <paramref name="maxLength"/> characters.</summary>
    public static string Text(Random random, string alphabet, int maxLength)
    {
        int length = random.Next(maxLength + 1);
        StringBuilder text = new(length);
        for (int i = 0; i < length; i++)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return text.ToString();
    }

    /// <summary>One of <paramref name="items"/>.</summary>
    public static T Pick<T>(Random random, params T[] items) => items[random.Next(items.Length)];

    /// <summary>Characters that break parsers: separators, brackets, percent signs, digits,
    /// whitespace, control characters, non-ASCII letters, a lone surrogate.</summary>
    public const string Hostile = "0123456789abcdefABCDEF:[]/.%-_@#?&=+ \t\r\n\0\u00e9\u65e5\u200b\uFFFD\uD800zZ*~\\,;'\"()<>|";
}
