// The one child-process watcher of the Pester suite and the benchmark, loaded with Add-Type by
// tests/pester/SockPS.TestHelpers.psm1 (the benchmark imports that module). C# rather than
// script: .NET raises OutputDataReceived/ErrorDataReceived, and timer callbacks, on thread-pool
// threads, where a PowerShell script block has no runspace to run in. Compiled by Add-Type at
// run time, so it sticks to what every PowerShell 7.4+ runtime has.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace SockPS.Testing
{
    /// <summary>
    /// A started process whose stdin, stdout and stderr are redirected; the output is collected
    /// line by line under a lock, so a caller can block on a Monitor, with a timeout, until a
    /// line it expects arrives (never a sleep, never a spin).
    /// </summary>
    /// <remarks>
    /// Waits are expect-like: each stream has a cursor, and a successful wait moves it past the
    /// matched line, so waiting twice for "Got connection" needs two such lines.
    /// </remarks>
    public sealed class TestProcess : IDisposable
    {
        private readonly object _gate = new object();
        private readonly List<string> _output = new List<string>();
        private readonly List<string> _error = new List<string>();
        // Both streams in arrival order, prefixed, for failure messages.
        private readonly List<string> _combined = new List<string>();
        private int _outputCursor;
        private int _errorCursor;
        private bool _outputClosed;
        private bool _errorClosed;
        private bool _disposed;

        public TestProcess(ProcessStartInfo startInfo)
        {
            startInfo.UseShellExecute = false;
            startInfo.RedirectStandardOutput = true;
            startInfo.RedirectStandardError = true;
            // Always redirect stdin: an inherited console would let a child (pwsh above all)
            // read the terminal the run is attached to.
            startInfo.RedirectStandardInput = true;
            startInfo.StandardOutputEncoding = new UTF8Encoding(false);
            startInfo.StandardErrorEncoding = new UTF8Encoding(false);
            startInfo.StandardInputEncoding = new UTF8Encoding(false);

            Process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            Process.OutputDataReceived += (sender, e) => Add(e.Data, isError: false);
            Process.ErrorDataReceived += (sender, e) => Add(e.Data, isError: true);
            Process.Start();
            Id = Process.Id;
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
            CommandLine = startInfo.FileName + " " + string.Join(" ", startInfo.ArgumentList);
        }

        public Process Process { get; }

        public string CommandLine { get; }

        // Kept from the start: after Dispose, Process.Id throws, which PowerShell shows as
        // $null; a script that then signals "$null" as a pid hits its own process group.
        public int Id { get; private set; }

        public bool HasExited => _disposed || Process.HasExited;

        public string[] OutputLines { get { lock (_gate) { return _output.ToArray(); } } }

        public string[] ErrorLines { get { lock (_gate) { return _error.ToArray(); } } }

        /// <summary>Everything on stdout so far, one string (for a tool that prints JSON).</summary>
        public string Output { get { lock (_gate) { return string.Join("\n", _output); } } }

        /// <summary>True when the stream ("Output", "Error" or "Any": both) can bring no more lines.</summary>
        public bool HasStreamEnded(string stream)
        {
            lock (_gate)
            {
                if (string.Equals(stream, "Output", StringComparison.OrdinalIgnoreCase)) return _outputClosed;
                if (string.Equals(stream, "Error", StringComparison.OrdinalIgnoreCase)) return _errorClosed;
                return _outputClosed && _errorClosed;
            }
        }

        public void WriteInput(string line)
        {
            Process.StandardInput.WriteLine(line);
            Process.StandardInput.Flush();
        }

        /// <summary>Closes the child's stdin (for children that run until it closes). Safe to
        /// call twice, and after the child has gone.</summary>
        public void CloseInput()
        {
            try
            {
                Process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child exited first: the pipe is broken and there is nothing to tell it.
            }
        }

        /// <summary>
        /// Blocks until a line on the stream ("Output", "Error" or "Any") matches, the stream
        /// ends (the process can print no more), or the timeout passes. Returns null when no
        /// line matched. fromStart searches every line seen so far instead of only those after
        /// the previous match.
        /// </summary>
        public Match? WaitForLine(Regex pattern, string stream, TimeSpan timeout, bool fromStart)
        {
            bool useOutput = !string.Equals(stream, "Error", StringComparison.OrdinalIgnoreCase);
            bool useError = !string.Equals(stream, "Output", StringComparison.OrdinalIgnoreCase);
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                if (fromStart)
                {
                    if (useOutput) _outputCursor = 0;
                    if (useError) _errorCursor = 0;
                }

                while (true)
                {
                    if (useOutput)
                    {
                        for (; _outputCursor < _output.Count; _outputCursor++)
                        {
                            Match m = pattern.Match(_output[_outputCursor]);
                            if (m.Success) { _outputCursor++; return m; }
                        }
                    }

                    if (useError)
                    {
                        for (; _errorCursor < _error.Count; _errorCursor++)
                        {
                            Match m = pattern.Match(_error[_errorCursor]);
                            if (m.Success) { _errorCursor++; return m; }
                        }
                    }

                    bool ended = (!useOutput || _outputClosed) && (!useError || _errorClosed);
                    TimeSpan left = timeout - clock.Elapsed;
                    if (ended || left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    Monitor.Wait(_gate, left);
                }
            }
        }

        /// <summary>
        /// Waits for the process to exit and for both streams to be drained, so every line is
        /// captured. False on timeout.
        /// </summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            if (!Process.WaitForExit(ClampToMilliseconds(timeout)))
            {
                return false;
            }

            lock (_gate)
            {
                // A grandchild that inherited the pipes can keep them open after the process
                // has exited; then give up on the tail of the output rather than hang.
                while (!(_outputClosed && _errorClosed))
                {
                    TimeSpan left = timeout - clock.Elapsed;
                    if (left <= TimeSpan.Zero) break;
                    Monitor.Wait(_gate, left);
                }
            }

            return true;
        }

        /// <summary>Everything printed so far, stdout and stderr interleaved in arrival order.</summary>
        public string Transcript() => Transcript(int.MaxValue);

        /// <summary>The same with only the last <paramref name="lastLines"/> lines (a chatty
        /// child in a long benchmark run).</summary>
        public string Transcript(int lastLines)
        {
            lock (_gate)
            {
                var sb = new StringBuilder();
                sb.Append("--- command: ").AppendLine(CommandLine);
                sb.Append("--- process ").Append(Id).Append(": ");
                if (Process.HasExited)
                {
                    sb.Append("exited with code ").Append(Process.ExitCode).AppendLine();
                }
                else
                {
                    sb.AppendLine("still running");
                }

                sb.Append("--- stdout ").Append(_output.Count).Append(" line(s), stderr ")
                  .Append(_error.Count).AppendLine(" line(s):");
                int first = Math.Max(0, _combined.Count - Math.Max(0, lastLines));
                if (first > 0)
                {
                    sb.Append("(").Append(first).AppendLine(" earlier line(s) left out)");
                }

                for (int i = first; i < _combined.Count; i++)
                {
                    sb.AppendLine(_combined[i]);
                }

                sb.Append("--- end of output");
                return sb.ToString();
            }
        }

        /// <summary>Kills the process and its descendants if still running. Idempotent.</summary>
        public void Kill()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.Kill(entireProcessTree: true);
                    Process.WaitForExit(10000);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // A descendant went away while the tree was walked.
            }
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Kill();
            Process.Dispose();
        }

        public override string ToString() => "TestProcess " + Id + ": " + CommandLine;

        private void Add(string? line, bool isError)
        {
            lock (_gate)
            {
                if (line == null)
                {
                    if (isError) _errorClosed = true; else _outputClosed = true;
                }
                else
                {
                    (isError ? _error : _output).Add(line);
                    _combined.Add((isError ? "[err] " : "[out] ") + line);
                }

                Monitor.PulseAll(_gate);
            }
        }

        private static int ClampToMilliseconds(TimeSpan t) =>
            t <= TimeSpan.Zero ? 0 : t.TotalMilliseconds >= int.MaxValue ? int.MaxValue : (int)t.TotalMilliseconds;
    }

    /// <summary>
    /// The bound on work done in the caller's own process (a send or receive loop that a hung
    /// peer would block forever): when the timeout passes, every registered socket, connection
    /// or server is disposed, which makes the blocked call throw. A script block cannot be a
    /// timer callback (the callback has no runspace), hence this class.
    /// </summary>
    public sealed class Watchdog : IDisposable
    {
        private readonly List<IDisposable> _targets = new List<IDisposable>();
        private readonly Timer _timer;

        public Watchdog(TimeSpan timeout)
        {
            Timeout = timeout;
            _timer = new Timer(_ => Fire(), null, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }

        public TimeSpan Timeout { get; }

        public bool Fired { get; private set; }

        /// <summary>Disposes <paramref name="target"/> when the watchdog fires (at once when it
        /// already has).</summary>
        public void Add(IDisposable target)
        {
            lock (_targets)
            {
                if (!Fired) { _targets.Add(target); return; }
            }

            target.Dispose();
        }

        public void Dispose() => _timer.Dispose();

        private void Fire()
        {
            IDisposable[] targets;
            lock (_targets)
            {
                Fired = true;
                targets = _targets.ToArray();
            }

            foreach (IDisposable target in targets)
            {
                try { target.Dispose(); }
                catch (Exception) { }
            }
        }
    }
}
