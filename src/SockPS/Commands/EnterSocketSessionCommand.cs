using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// <para type="synopsis">Talks to a socket from the console, as nc host port and telnet do: lines typed go out, what arrives is shown as it arrives. With -Stdio, bridges standard input and output to the socket byte for byte, as socat STDIO does (an ssh ProxyCommand).</para>
/// <para type="description">Enter-SocketSession connects the way Connect-Socket does (every
/// parameter of Connect-Socket works here: -ComputerName and -Port, -Uri, -Path, TLS, proxies),
/// or takes a connection you already have (-Connection, also from the pipeline), or waits for one
/// client on a server (-Server). Each line you type is sent with the connection's NewLine when you
/// press Enter; what the peer sends is shown as it arrives, decoded with the connection's
/// Encoding, with control characters and bytes that do not decode shown as escapes (\x1b, \x07,
/// a lone \r), or as hexdump -C lines with -Hex. With -Raw every key goes out as it is typed
/// (Enter as CR, Ctrl+C as 0x03, arrows as VT sequences) and nothing is echoed here.</para>
/// <para type="description">Ctrl+] (telnet's escape key) leaves the session: a connection you
/// gave with -Connection stays open, one the session opened itself is closed. When the peer
/// closes, the session ends and says why. On a UDP socket every line is one datagram and every
/// datagram is shown on a line of its own after its sender.</para>
/// <para type="description">-Stdio copies this process's standard input to the socket and the
/// socket to its standard output, byte for byte; the end of standard input half-closes the
/// connection, and the peer's end of stream ends the session. That is what ssh's ProxyCommand
/// needs: ssh -o ProxyCommand="pwsh -NoProfile -c 'Enter-SocketSession -Stdio %h %p'" host.</para>
/// </summary>
[Cmdlet(VerbsCommon.Enter, "SocketSession", DefaultParameterSetName = HostSet)]
public sealed class EnterSocketSessionCommand : ConnectSocketCmdlet
{
    private const string ConnectionSet = "Connection";
    private const string ServerSet = "Server";

    /// <summary>How often the console is asked for keys while nothing arrives (milliseconds).</summary>
    private const int KeyPollMilliseconds = 15;

    /// <summary>The reason when the connection has none yet: a receive can see the end of the
    /// stream a moment before the connection records why (the same words).</summary>
    /// <summary>Received chunks waiting to be shown; a full queue holds the receive back.</summary>
    private const int QueueCapacity = 64;

    /// <summary>The connection to talk on, as Connect-Socket, Wait-SocketConnection or
    /// Get-SocketConnection return it (a UDP server stands for its socket). Ctrl+] leaves it open.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ConnectionSet)]
    [SingleConnectionArgumentTransformation]
    [ValidateNotNull]
    public SocketConnection Connection { get; set; } = null!;

    /// <summary>A server (as Start-SocketServer returns it, or its name or Id) to wait on for one
    /// client, as nc -l does: the session talks to the first client it accepts and closes that
    /// connection at the end; the server keeps listening. On a UDP server the session talks on the
    /// server's socket and each line goes to the sender of the last datagram.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServerSet)]
    [SingleServerArgumentTransformation]
    [ArgumentCompleter(typeof(ServerCompleter))]
    [ValidateNotNull]
    public SocketServer Server { get; set; } = null!;

    /// <summary>Send every key as it is typed, as a terminal in raw mode would (Enter as CR, Tab,
    /// Backspace as DEL, Ctrl+letter as its control character, Ctrl+C as 0x03, arrows and function
    /// keys as VT220 sequences), with no local echo or line editing. Only Ctrl+] stays here: it
    /// leaves the session.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>Show what arrives as hexdump -C lines (offset, 16 bytes in hex, the printable
    /// ASCII) instead of text.</summary>
    [Parameter]
    public SwitchParameter Hex { get; set; }

    /// <summary>Copy standard input to the socket and the socket to standard output, byte for
    /// byte, instead of an interactive session (socat STDIO, nc -N): for pwsh -c as an ssh
    /// ProxyCommand, or any program that talks over pipes. The end of standard input half-closes
    /// the connection; the peer's end of stream ends the session. Nothing else is written to
    /// standard output.</summary>
    [Parameter]
    public SwitchParameter Stdio { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecordCore()
    {
        if (Stdio && (Raw || Hex))
        {
            ThrowInvalidArgument("-Stdio copies bytes as they are; -Raw and -Hex are for the interactive session. Leave them out, or leave -Stdio out.");
        }

        SocketConnection? connection;
        bool owned;
        switch (ParameterSetName)
        {
            case ConnectionSet:
                RefuseConnectParameters("-Connection");
                connection = One(DeserializedTargets.Live(this, new[] { Connection }));
                owned = false;
                break;
            case ServerSet:
                RefuseConnectParameters("-Server");
                if (One(DeserializedTargets.Live(this, new[] { Server })) is not SocketServer server)
                {
                    return;
                }

                (connection, owned) = FromServer(server);
                break;
            default:
                connection = ConnectFromParameters();
                owned = true;
                break;
        }

        if (connection is null)
        {
            return;
        }

        try
        {
            if (connection.State == SocketState.Disconnected)
            {
                throw new SocketOperationException(SocketFailureKind.Closed,
                    $"{connection.Name} ({connection.RemoteEndPointText}) is closed: a session needs an open connection. Open one with Connect-Socket, or give Enter-SocketSession -ComputerName and -Port.",
                    connection.RemoteEndPointText);
            }

            if (Stdio)
            {
                RunStdio(connection);
            }
            else
            {
                new InteractiveSession(this, connection, owned).Run();
            }
        }
        catch (SocketOperationException ex)
        {
            WriteSocketError(ex, connection.RemoteEndPointText);
        }
        finally
        {
            if (owned)
            {
                connection.Close("Enter-SocketSession ended.");
            }
        }
    }

    private static T? One<T>(IReadOnlyList<T> items)
        where T : class => items.Count > 0 ? items[0] : null;

    /// <summary>A stream server's next client (waiting as long as it takes; Ctrl+C stops the
    /// wait), or a datagram server's own socket.</summary>
    private (SocketConnection? Connection, bool Owned) FromServer(SocketServer server)
    {
        if (server.DatagramSocket is SocketConnection socket)
        {
            return (socket, false);
        }

        try
        {
            WriteVerbose($"Waiting for a client on {server.Name} ({EndPointText.Format(server.LocalEndPoint)}).");
            if (!Stdio && !Console.IsOutputRedirected)
            {
                Console.Out.WriteLine($"Waiting for a client on {EndPointText.Format(server.LocalEndPoint)} ({server.Name}); Ctrl+C stops waiting.");
            }

            return (Await(server.AcceptAsync(TimeSpan.Zero, StopToken)), true);
        }
        catch (SocketOperationException ex)
        {
            WriteSocketError(ex, server, "ServerStopped");
            return (null, false);
        }
    }

    /// <summary>The parameters given on the command line (BeginProcessing sees only those): a
    /// piped connection binds -Name from its own Name, which is no request to rename anything.</summary>
    private HashSet<string>? _commandLine;

    /// <inheritdoc/>
    protected override void BeginProcessingCore() =>
        _commandLine = new HashSet<string>(MyInvocation.BoundParameters.Keys, StringComparer.OrdinalIgnoreCase);

    /// <summary>With -Connection or -Server the connection exists already: the parameters that
    /// say how to open one (those of Connect-Socket) do not apply, and are refused by name.</summary>
    private void RefuseConnectParameters(string given)
    {
        List<string> refused = new();
        foreach (string name in _commandLine ?? new HashSet<string>())
        {
            PropertyInfo? property = typeof(EnterSocketSessionCommand).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is not null && property.DeclaringType != typeof(EnterSocketSessionCommand)
                && property.IsDefined(typeof(ParameterAttribute), inherit: true))
            {
                refused.Add("-" + property.Name);
            }
        }

        if (refused.Count > 0)
        {
            ThrowInvalidArgument(
                $"{string.Join(", ", refused)} {(refused.Count == 1 ? "says" : "say")} how to open a connection, but {given} gives one already: the session uses its encoding, line end and TLS as they are. " +
                "Change them on the connection ($c.Encoding, $c.NewLine) or open it with Enter-SocketSession -ComputerName, -Uri or -Path.");
        }
    }

    // ------------------------------------------------------------------ -Stdio

    private void RunStdio(SocketConnection connection)
    {
        RequireConsoleHost("-Stdio");
        WriteVerbose($"Bridging standard input and output to {connection.Name} ({connection.RemoteEndPointText}).");
        using Stream input = Console.OpenStandardInput();
        using Stream output = Console.OpenStandardOutput();
        StdioBridgeResult result = Await(StdioBridge.RunAsync(connection, input, output, StopToken));
        string end = result.OutputClosed ? "Standard output was closed."
            : result.PeerEnded ? $"The peer ended the session: {connection.CloseReason}"
            : "Standard input ended.";
        WriteVerbose($"Sent {result.BytesSent} bytes from standard input and wrote {result.BytesReceived} to standard output. {end}");
    }

    /// <summary>Standard input and output belong to the session only in a console host (pwsh,
    /// pwsh -c, powershell.exe): in a remote session's host they carry the remoting protocol.</summary>
    private void RequireConsoleHost(string what)
    {
        if (!string.Equals(Host.Name, "ConsoleHost", StringComparison.Ordinal))
        {
            ThrowTerminatingError(new ErrorRecord(
                new PSInvalidOperationException($"{what} reads this process's standard input, and this host ({Host.Name}) does not own it: in a remote session it carries the session itself. Run Enter-SocketSession in a console (pwsh, or pwsh -c for -Stdio), or use Send-SocketData and Receive-SocketData here."),
                "NoConsole", ErrorCategory.ResourceUnavailable, Host.Name));
        }
    }

    // ------------------------------------------------------------------ the interactive session

    /// <summary>One thing for the pipeline thread to show or act on.</summary>
    private sealed class SessionEvent
    {
        public byte[]? Data { get; set; }

        public SocketDatagram? Message { get; set; }

        public bool PeerEnded { get; set; }

        public SocketOperationException? Failure { get; set; }

        /// <summary>A line read from redirected standard input.</summary>
        public string? Line { get; set; }

        /// <summary>Redirected standard input ended.</summary>
        public bool InputEnded { get; set; }
    }

    /// <summary>
    /// The console session: a background receive queues what arrives; the pipeline thread shows
    /// it, and between arrivals asks the console for keys (Console.KeyAvailable, then ReadKey
    /// without echo): a blocking ReadKey on another thread would keep waiting after the session
    /// and swallow the next key typed at the prompt. Everything on the screen is written here,
    /// on the pipeline thread.
    /// </summary>
    private sealed class InteractiveSession
    {
        private readonly EnterSocketSessionCommand _cmdlet;
        private readonly SocketConnection _connection;
        private readonly bool _owned;
        private readonly bool _inputRedirected = Console.IsInputRedirected;
        private readonly bool _terminal = !Console.IsOutputRedirected;
        private readonly TextWriter _screen = Console.Out;
        private readonly string _newLine = Environment.NewLine;
        private readonly SessionTextRenderer _text;
        private readonly SessionHexDump _hex = new();
        private readonly TerminalKeyEncoder _keys;
        private readonly StringBuilder _input = new();
        private readonly BlockingCollection<SessionEvent> _events = new(QueueCapacity);
        private bool _atLineStart = true;
        private bool _inputOnOwnLine;
        private EndPoint? _lastSender;

        public InteractiveSession(EnterSocketSessionCommand cmdlet, SocketConnection connection, bool owned)
        {
            _cmdlet = cmdlet;
            _connection = connection;
            _owned = owned;
            _text = new SessionTextRenderer(connection.Encoding, _newLine);
            _keys = new TerminalKeyEncoder(connection.Encoding);
        }

        private bool Raw => _cmdlet.Raw;

        /// <summary>Datagram sockets and WebSockets: whole messages, each shown on its own line.</summary>
        private bool Messages => _connection.IsDatagram || _connection.IsWebSocket;

        public void Run()
        {
            if (_inputRedirected)
            {
                _cmdlet.RequireConsoleHost("Enter-SocketSession with redirected input");
            }
            else
            {
                try
                {
                    _ = Console.KeyAvailable;
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException)
                {
                    _cmdlet.ThrowTerminatingError(new ErrorRecord(
                        new PSInvalidOperationException($"Enter-SocketSession reads keys from the console, and this host ({_cmdlet.Host.Name}) has none. Run it in pwsh in a terminal, use -Stdio to bridge standard input and output, or use Send-SocketData and Receive-SocketData.", ex),
                        "NoConsole", ErrorCategory.ResourceUnavailable, _cmdlet.Host.Name));
                }
            }

            using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(_cmdlet.StopToken);
            bool? treatControlC = null;
            Task pump = Task.Run(() => PumpAsync(stop.Token));
            if (_inputRedirected)
            {
                StartLineReader();
            }
            else if (Raw)
            {
                treatControlC = Console.TreatControlCAsInput;
                Console.TreatControlCAsInput = true;
            }

            try
            {
                Status(Banner());
                Loop();
            }
            finally
            {
                stop.Cancel();
                try
                {
                    pump.Wait(TimeSpan.FromSeconds(10));
                }
                catch (AggregateException)
                {
                    // The pump reports through the queue; a cancelled receive is its normal end.
                }

                if (treatControlC is bool before)
                {
                    Console.TreatControlCAsInput = before;
                }

                _screen.Flush();
            }
        }

        private string Banner()
        {
            string what = !_owned ? $"Session on {_connection.Name} ({_connection.Transport} {_connection.RemoteEndPointText})"
                : _connection.Server is SocketServer server ? $"Accepted {_connection.RemoteEndPointText} on {server.Name}"
                : $"Connected to {_connection.RemoteEndPointText}";
            string mode = _connection.IsDatagram ? " Each line is one datagram." : string.Empty;
            string raw = Raw ? " Keys go out as typed (Ctrl+C too)." : string.Empty;
            if (_inputRedirected)
            {
                return $"{what}. Sending the lines of standard input.{mode}";
            }

            string leave = _owned ? "Ctrl+] leaves and closes the connection." : $"Ctrl+] leaves; {_connection.Name} stays open.";
            return $"{what}.{mode}{raw} {leave}";
        }

        private void Loop()
        {
            int lingerUntil = 0;
            bool lingering = false;
            while (true)
            {
                int wait = _inputRedirected ? (lingering ? Math.Max(0, unchecked(lingerUntil - Environment.TickCount)) : Timeout.Infinite) : KeyPollMilliseconds;
                if (_events.TryTake(out SessionEvent? next, wait, _cmdlet.StopToken))
                {
                    if (!Handle(next!))
                    {
                        return;
                    }

                    if (lingering && next!.Message is not null)
                    {
                        lingerUntil = Environment.TickCount + (int)StdioBridge.DatagramLinger.TotalMilliseconds;
                    }

                    if (next!.InputEnded && _connection.IsDatagram)
                    {
                        lingering = true;
                        lingerUntil = Environment.TickCount + (int)StdioBridge.DatagramLinger.TotalMilliseconds;
                    }

                    // Show everything queued before looking at the keys again.
                    continue;
                }

                if (lingering && unchecked(Environment.TickCount - lingerUntil) >= 0)
                {
                    return;
                }

                if (!_inputRedirected)
                {
                    while (Console.KeyAvailable)
                    {
                        if (!OnKey(Console.ReadKey(intercept: true)))
                        {
                            return;
                        }
                    }
                }
            }
        }

        /// <summary>Receives in the background until the peer ends, a failure, or the session
        /// ends; a full queue holds the next receive back (the socket's window fills).</summary>
        private async Task PumpAsync(CancellationToken token)
        {
            try
            {
                ReceiveRequest request = new(ReceiveMode.Available, asText: false, TimeSpan.Zero);
                while (true)
                {
                    object? received = await _connection.ReceiveAsync(request, token).ConfigureAwait(false);
                    SessionEvent item = received switch
                    {
                        null => new SessionEvent { PeerEnded = true },
                        SocketDatagram datagram => new SessionEvent { Message = datagram },
                        _ => new SessionEvent { Data = (byte[])received },
                    };
                    _events.Add(item, token);
                    if (item.PeerEnded)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (SocketOperationException ex)
            {
                try
                {
                    _events.Add(new SessionEvent { Failure = ex }, token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        /// <summary>Reads redirected standard input line by line on a thread of its own (its
        /// reads block); the lines are sent from the pipeline thread.</summary>
        private void StartLineReader()
        {
            Thread reader = new(() =>
            {
                try
                {
                    string? line;
                    while ((line = Console.In.ReadLine()) is not null)
                    {
                        _events.Add(new SessionEvent { Line = line });
                    }
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // The queue was completed or the input failed: either way the input ended.
                }

                try
                {
                    _events.Add(new SessionEvent { InputEnded = true });
                }
                catch (InvalidOperationException)
                {
                }
            })
            {
                IsBackground = true,
                Name = "SockPS session input",
            };
            reader.Start();
        }

        /// <summary>Shows or acts on one event; false ends the session.</summary>
        private bool Handle(SessionEvent item)
        {
            if (item.Data is byte[] data)
            {
                Show(_cmdlet.Hex ? _hex.Dump(data, 0, data.Length, _newLine) : _text.Render(data, 0, data.Length));
                return true;
            }

            if (item.Message is SocketDatagram message)
            {
                if (message.RemoteEndPoint is not null && _connection.RemoteEndPoint is null)
                {
                    _lastSender = message.RemoteEndPoint;
                }

                EndPoint? sender = _connection.IsDatagram ? message.RemoteEndPoint ?? _connection.RemoteEndPoint : null;
                if (_cmdlet.Hex)
                {
                    string from = sender is null ? string.Empty : $"[from {EndPointText.Format(sender)}] ";
                    Show($"{from}{message.Data.Length} bytes{_newLine}" + new SessionHexDump().Dump(message.Data, 0, message.Data.Length, _newLine), ownLine: true);
                }
                else
                {
                    Show(_text.RenderMessage(message.Data, sender), ownLine: true);
                }

                return true;
            }

            if (item.PeerEnded)
            {
                Show(_text.Flush());
                Status($"Connection closed by {_connection.RemoteEndPointText}: {_connection.CloseReason}");
                return false;
            }

            if (item.Failure is SocketOperationException failure)
            {
                Show(_text.Flush());
                EraseInput();
                _cmdlet.WriteSocketError(failure, _connection.RemoteEndPointText);
                return false;
            }

            if (item.Line is string line)
            {
                return SendLine(line);
            }

            if (item.InputEnded)
            {
                if (!_connection.IsDatagram && _connection.State == SocketState.Open)
                {
                    _connection.ShutdownSend();
                }

                return true;
            }

            return true;
        }

        /// <summary>One key; false leaves the session.</summary>
        private bool OnKey(ConsoleKeyInfo key)
        {
            if (TerminalKeyEncoder.IsLeaveKey(key))
            {
                EraseInput();
                _input.Clear();
                Status(_owned ? "Left the session; the connection is closed." : $"Left the session; {_connection.Name} is still open.");
                return false;
            }

            if (Raw)
            {
                byte[] bytes = _keys.Encode(key);
                return bytes.Length == 0 || Send(bytes, appendNewLine: false);
            }

            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    string line = _input.ToString();
                    _input.Clear();
                    Write(_newLine);
                    return SendLine(line);
                case ConsoleKey.Backspace:
                    if (_input.Length > 0)
                    {
                        _input.Length--;
                        Write("\b \b");
                    }

                    return true;
            }

            bool control = (key.Modifiers & ConsoleModifiers.Control) != 0;
            if (control && key.Key == ConsoleKey.D && _input.Length == 0)
            {
                // As the end of nc's standard input: half-close, keep showing what arrives.
                if (_connection.IsDatagram)
                {
                    Status("A datagram socket has no end of stream to send; Ctrl+] leaves.");
                }
                else if (_connection.State == SocketState.Open)
                {
                    _connection.ShutdownSend();
                    Status("Sent the end of the stream (half-close); waiting for the peer to close. Ctrl+] leaves.");
                }

                return true;
            }

            char c = key.KeyChar;
            if (c == '\t' || (c != '\0' && !char.IsControl(c)))
            {
                if (_input.Length == 0)
                {
                    _inputOnOwnLine = _atLineStart;
                }

                _input.Append(c);
                Write(c.ToString());
            }

            return true;
        }

        /// <summary>A line with the connection's NewLine; on a WebSocket, one text message without it.</summary>
        private bool SendLine(string line)
        {
            if (_connection.IsWebSocket)
            {
                try
                {
                    _cmdlet.Await(_connection.SendTextAsync(line, appendNewLine: false, _cmdlet.StopToken));
                    return true;
                }
                catch (SocketOperationException ex)
                {
                    EraseInput();
                    _cmdlet.WriteSocketError(ex, _connection.RemoteEndPointText);
                    return false;
                }
            }

            byte[] bytes = _connection.Encoding.GetBytes(line);
            return Send(bytes, appendNewLine: true);
        }

        private bool Send(byte[] bytes, bool appendNewLine)
        {
            EndPoint? to = null;
            if (_connection.IsDatagram && _connection.RemoteEndPoint is null)
            {
                if (_lastSender is null)
                {
                    Status("Nothing was sent: this socket has no peer of its own, and no datagram has arrived yet to answer.");
                    return true;
                }

                to = _lastSender;
            }

            try
            {
                _cmdlet.Await(_connection.SendAsync(bytes, 0, bytes.Length, appendNewLine, _cmdlet.StopToken, to));
                return true;
            }
            catch (SocketOperationException ex)
            {
                EraseInput();
                _cmdlet.WriteSocketError(ex, _connection.RemoteEndPointText);
                return false;
            }
        }

        /// <summary>A line of the session's own (not from the peer), on a line of its own.</summary>
        private void Status(string text)
        {
            if (!_terminal)
            {
                _cmdlet.WriteVerbose(text);
                return;
            }

            Show(text + _newLine, ownLine: true);
        }

        /// <summary>Writes what arrived (or a status line) without mixing it into the line being
        /// typed: that line is taken off the screen first and typed out again after.</summary>
        private void Show(string text, bool ownLine = false)
        {
            if (text.Length == 0)
            {
                return;
            }

            bool typing = _input.Length > 0;
            if (typing)
            {
                EraseInput();
            }

            if (ownLine && !_atLineStart)
            {
                text = _newLine + text;
            }

            Write(text);
            if (typing)
            {
                _inputOnOwnLine = _atLineStart;
                Write(_input.ToString());
            }
        }

        /// <summary>Takes the line being typed off the screen: back to its start and clear to the
        /// end of the screen when it began a line (VT sequences), else a line end after it.</summary>
        private void EraseInput()
        {
            if (_input.Length == 0)
            {
                return;
            }

            if (_terminal && _inputOnOwnLine)
            {
                int width = 0;
                try
                {
                    width = Console.WindowWidth;
                }
                catch (IOException)
                {
                }

                int up = width > 0 ? (_input.Length - 1) / width : 0;
                Write("\r" + (up > 0 ? $"\x1b[{up}A" : string.Empty) + "\x1b[J");
                _atLineStart = true;
            }
            else
            {
                Write(_newLine);
            }
        }

        private void Write(string text)
        {
            if (text.Length == 0)
            {
                return;
            }

            _screen.Write(text);
            _screen.Flush();
            _atLineStart = text.EndsWith(_newLine, StringComparison.Ordinal);
        }
    }
}

/// <summary>-Connection of Enter-SocketSession: what <see cref="ConnectionArgumentTransformationAttribute"/>
/// makes of the input (a UDP server's socket, a deserialized copy's live object), as one
/// connection rather than an array of one.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SingleConnectionArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object result = new ConnectionArgumentTransformationAttribute().Transform(engineIntrinsics, inputData);
        return result is SocketConnection[] { Length: 1 } one ? one[0] : result;
    }
}

/// <summary>-Server of Enter-SocketSession: a server's name or Id as well as the object
/// (<see cref="ServerArgumentTransformationAttribute"/>), as one server.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SingleServerArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object result = new ServerArgumentTransformationAttribute().Transform(engineIntrinsics, inputData);
        return result switch
        {
            SocketServer[] { Length: 1 } one => one[0],
            object[] { Length: 1 } single when (single[0] is PSObject p ? p.BaseObject : single[0]) is SocketServer server => server,
            _ => result,
        };
    }
}
