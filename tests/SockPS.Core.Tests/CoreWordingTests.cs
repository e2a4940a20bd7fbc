using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace SockPS.Core.Tests;

/// <summary>The core's messages are true without PowerShell: no string literal in
/// src/SockPS.Core names a cmdlet (Connect-Socket) or a parameter (-TimeoutSeconds). The cmdlet
/// layer adds that advice from the failure's kind and setting (ErrorAdvice). The scan reads string
/// literals only (regular, verbatim, interpolated: their text, not their holes), never comments.</summary>
public class CoreWordingTests
{
    // A cmdlet: Verb-Noun with an approved-looking verb and a capitalised noun (Connect-Socket,
    // Get-Credential, Enable-TlsCipherSuite).
    private static readonly Regex Cmdlet = new(
        @"\b(Add|Clear|Close|Connect|Disable|Disconnect|Enable|Enter|Exit|Get|Import|Invoke|New|Protect|Read|Receive|Register|Remove|Resolve|Select|Send|Set|Start|Stop|Test|Unregister|Wait|Write)-[A-Z][A-Za-z]+");

    // A parameter: a dash that starts a word, then a capitalised name (-Port, -TimeoutSeconds).
    // openssl's -in, -out and -pubkey stay allowed: they are lower case.
    private static readonly Regex Parameter = new(@"(?<![A-Za-z0-9\-])-[A-Z][a-z][A-Za-z]*");

    [Fact]
    public void NoCoreStringLiteralNamesACmdletOrAParameter()
    {
        string core = Path.Combine(RepositoryRoot(), "src", "SockPS.Core");
        List<string> offenders = new();
        foreach (string file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")))
        {
            foreach ((int line, string text) in Literals(File.ReadAllText(file)))
            {
                Match found = Cmdlet.Match(text) is { Success: true } c ? c : Parameter.Match(text);
                if (found.Success)
                {
                    offenders.Add($"{Path.GetRelativePath(core, file)}:{line}: '{found.Value}' in \"{text}\"");
                }
            }
        }

        Assert.True(offenders.Count == 0,
            "Core messages name cmdlets or parameters; say it in neutral words and give the exception a SocketSetting " +
            "(the cmdlet layer's ErrorAdvice names the parameter):" + Environment.NewLine + string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void TheScanFindsLiteralsAndSkipsCommentsAndHoles()
    {
        const string source = """
            // "Connect-Socket" in a comment
            /* "-Port" in a block comment */
            char quote = '"';
            string a = "raise -TimeoutSeconds";
            string b = $"x {Call("-Hidden")} then Wait-SocketConnection";
            string c = @"verbatim ""-Quoted"" text";
            """;
        List<(int Line, string Text)> literals = Literals(source).ToList();
        Assert.Equal(
            new[] { "raise -TimeoutSeconds", "x {} then Wait-SocketConnection", "-Hidden", "verbatim \"-Quoted\" text" }.OrderBy(t => t, StringComparer.Ordinal),
            literals.Select(l => l.Text).OrderBy(t => t, StringComparer.Ordinal));
        Assert.DoesNotContain(literals, l => l.Text.Contains("Connect-Socket", StringComparison.Ordinal) || l.Text.Contains("-Port", StringComparison.Ordinal));
        Assert.Equal(4, literals.Single(l => l.Text.StartsWith("raise", StringComparison.Ordinal)).Line);
    }

    /// <summary>The string literals of C# source, with their line numbers. An interpolated
    /// string's holes are left out of its text (a hole's own literals are returned on their own).</summary>
    private static IEnumerable<(int Line, string Text)> Literals(string source)
    {
        List<(int, string)> found = new();
        Scan(source, 0, source.Length, found);
        return found;
    }

    private static void Scan(string s, int start, int end, List<(int, string)> found)
    {
        int i = start;
        while (i < end)
        {
            if (At(s, i, "//"))
            {
                int newline = s.IndexOf('\n', i);
                i = newline < 0 || newline > end ? end : newline;
            }
            else if (At(s, i, "/*"))
            {
                int close = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = close < 0 ? end : close + 2;
            }
            else if (s[i] == '\'')
            {
                // A char literal: 'x', '\'', '\u0000'.
                int close = s.IndexOf('\'', i + (s[i + 1] == '\\' ? 3 : 2));
                i = close < 0 ? end : close + 1;
            }
            else if (StringStart(s, i, out int open, out bool verbatim, out bool interpolated, out int rawQuotes))
            {
                int line = 1 + s.Take(i).Count(c => c == '\n');
                i = ReadString(s, open, verbatim, interpolated, rawQuotes, line, found);
            }
            else
            {
                i++;
            }
        }
    }

    private static bool At(string s, int i, string what) => string.CompareOrdinal(s, i, what, 0, what.Length) == 0;

    private static bool StringStart(string s, int i, out int open, out bool verbatim, out bool interpolated, out int rawQuotes)
    {
        verbatim = interpolated = false;
        rawQuotes = 0;
        int j = i;
        while (j < s.Length && (s[j] == '$' || s[j] == '@') && j - i < 3)
        {
            verbatim |= s[j] == '@';
            interpolated |= s[j] == '$';
            j++;
        }

        if (j < s.Length && s[j] == '"')
        {
            int quotes = 0;
            while (j + quotes < s.Length && s[j + quotes] == '"')
            {
                quotes++;
            }

            rawQuotes = quotes >= 3 ? quotes : 0;
            open = j + (rawQuotes > 0 ? rawQuotes : 1);
            return true;
        }

        open = 0;
        return false;
    }

    private static int ReadString(string s, int i, bool verbatim, bool interpolated, int rawQuotes, int line, List<(int, string)> found)
    {
        StringBuilder text = new();
        while (i < s.Length)
        {
            char c = s[i];
            if (rawQuotes > 0 && At(s, i, new string('"', rawQuotes)))
            {
                found.Add((line, Dedent(text.ToString())));
                return i + rawQuotes;
            }

            if (rawQuotes == 0 && verbatim && c == '"' && i + 1 < s.Length && s[i + 1] == '"')
            {
                text.Append('"');
                i += 2;
            }
            else if (rawQuotes == 0 && !verbatim && c == '\\')
            {
                text.Append(s, i, Math.Min(2, s.Length - i));
                i += 2;
            }
            else if (rawQuotes == 0 && c == '"')
            {
                found.Add((line, text.ToString()));
                return i + 1;
            }
            else if (interpolated && c == '{' && i + 1 < s.Length && s[i + 1] == '{')
            {
                text.Append('{');
                i += 2;
            }
            else if (interpolated && c == '{')
            {
                int close = HoleEnd(s, i + 1);
                Scan(s, i + 1, close, found);
                text.Append("{}");
                i = close + 1;
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        found.Add((line, text.ToString()));
        return i;
    }

    /// <summary>The closing brace of an interpolation hole, past nested braces and strings.</summary>
    private static int HoleEnd(string s, int i)
    {
        int depth = 0;
        while (i < s.Length)
        {
            if (StringStart(s, i, out int open, out bool verbatim, out bool interpolated, out int rawQuotes))
            {
                i = ReadString(s, open, verbatim, interpolated, rawQuotes, 0, new List<(int, string)>());
                continue;
            }

            if (s[i] == '\'')
            {
                int close = s.IndexOf('\'', i + (s[i + 1] == '\\' ? 3 : 2));
                i = close < 0 ? s.Length : close + 1;
                continue;
            }

            if (s[i] == '{')
            {
                depth++;
            }
            else if (s[i] == '}')
            {
                if (depth == 0)
                {
                    return i;
                }

                depth--;
            }

            i++;
        }

        return s.Length;
    }

    private static string Dedent(string raw) =>
        string.Join("\n", raw.Split('\n').Select(l => l.Trim())).Trim();

    private static string RepositoryRoot()
    {
        string here = AppContext.BaseDirectory;
        for (DirectoryInfo? dir = new(here); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "src", "SockPS.Core")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No src/SockPS.Core above {here}.");
    }
}
