@{
    Description = @(
        'TCP: Open when a connection is made (it is closed again at once); Refused when the host answers with a reset; TimedOut when nothing answers within -TimeoutSeconds (a firewall that drops packets, a host that is down); Unreachable when there is no route.'
        'UDP has no handshake, so a UDP check sends a probe datagram: a DNS query to port 53, an NTP request to port 123, an empty datagram elsewhere (-UdpProbe chooses). Any answer is Open; ICMP port unreachable is Refused; silence is NoAnswer, for then the port may be open or filtered.'
        'A name with several addresses is tested as Connect-Socket connects: the addresses in the resolver''s order until one is open. HostNotFound means the name did not resolve.'
        '-Wait retries each check every -RetryIntervalSeconds until the port opens or -TimeoutSeconds (then the whole wait) has passed; the Status is then Open or TimedOut, and -Verbose shows each failed attempt. -Quiet returns only $true (open) or $false per check.'
        '-Count N repeats every check N times and -Continuous until Ctrl+C (tcping, or Test-Connection -Repeat for a port, TCP or UDP): each round checks every host and port at once, writes a result per attempt as it finishes (Sequence says which attempt), and the next round starts -IntervalSeconds (default 1) after the last one started. -Summary writes, instead, one PortTestSummary per host and port when the rounds are done: Sent, Answered, LossPercent and the Minimum, Average, Maximum and StandardDeviation of the latency in milliseconds.'
    )
    Examples = @(
        @{
            Title   = 'Check several ports on several hosts'
            Code    = @'
$web = Start-SocketServer -Port 8080      # a stand-in for a web server
Test-SocketPort -ComputerName localhost, db.invalid -Port ssh, 8080-8081
'@
            Output  = @'
ComputerName       RemoteAddress   Port      Status         Latency Message
------------       -------------   ----      ------         ------- -------
localhost          127.0.0.1       22/tcp    Refused        12.9 ms Nothing listens there: the host sent a TCP reset.
localhost          127.0.0.1       8080/tcp  Open           12.7 ms A TCP connection was made.
localhost          127.0.0.1       8081/tcp  Refused        10.1 ms Nothing listens there: the host sent a TCP reset.
db.invalid                         22/tcp    HostNotFound           'db.invalid' does not resolve: Name or service not …
db.invalid                         8080/tcp  HostNotFound           'db.invalid' does not resolve: Name or service not …
db.invalid                         8081/tcp  HostNotFound           'db.invalid' does not resolve: Name or service not …
'@
            Remarks = @'
Every host and port pair is one check, and all six run at once. Ports are numbers, service names
(ssh is 22) or ranges. The results come out in the order of the input, hosts first; a port that is
not open is a result with a Status and a Message, not an error, so one dead host does not stop the
rest. Latency is how long the answer took (the first checks of a session include .NET's start-up).
'@
        }
        @{
            Title   = 'Wait for a service to start'
            Code    = @'
# A database that comes up four seconds from now.
Test-SocketPort -ComputerName localhost -Port 5432 -Wait -TimeoutSeconds 30 -Verbose |
    Format-List Status, Attempts, Latency, Message
'@
            Output  = @'
VERBOSE: localhost:5432/Tcp: attempt 1: Refused. Nothing listens there: the host sent a TCP reset.
VERBOSE: localhost:5432/Tcp: attempt 2: Refused. Nothing listens there: the host sent a TCP reset.
VERBOSE: localhost:5432/Tcp: attempt 3: Refused. Nothing listens there: the host sent a TCP reset.
VERBOSE: localhost:5432/Tcp: attempt 4: Refused. Nothing listens there: the host sent a TCP reset.

Status   : Open
Attempts : 5
Latency  : 00:00:00.0004884
Message  : Opened after 5 attempts (4 seconds). A TCP connection was made.
'@
            Remarks = @'
-Wait retries every -RetryIntervalSeconds (default 1) until the port opens or -TimeoutSeconds
(here the whole wait; default 60 with -Wait) has passed; the Status is then Open or TimedOut, and
the Message of a TimedOut result says what the last attempt saw. -Verbose shows each failed
attempt. Ctrl+C stops the wait at once. In a script: if ((Test-SocketPort db 5432 -Wait
-Quiet)) { ... }.
'@
        }
        @{
            Title   = 'Use it in a condition'
            Code    = @'
Test-SocketPort -ComputerName localhost -Port 5432, 5433 -Quiet
if (-not (Test-SocketPort -ComputerName localhost -Port 5433 -Quiet)) { Write-Warning 'The replica is down.' }
'@
            Output  = @'
True
False
WARNING: The replica is down.
'@
            Remarks = 'With -Quiet each check returns $true when the port is open and $false for every other outcome, in input order.'
        }
        @{
            Title   = 'Check the hosts and ports of a CSV file'
            Code    = @'
Get-Content ./hosts.csv
Import-Csv ./hosts.csv | Test-SocketPort | Where-Object Status -ne Open | Select-Object ComputerName, Port, Status
'@
            Output  = @'
ComputerName,Port
localhost,8080
localhost,"5432,6379"
build01.invalid,ssh

ComputerName    Port       Status
------------    ----       ------
localhost       6379      Refused
build01.invalid   22 HostNotFound
'@
            Remarks = @'
ComputerName (or Host, HostName, CN), Port and Protocol bind from the properties of piped objects,
so each row of a CSV file is a check; a Port cell may hold a list ("5432,6379") or a range. Rows
without a Protocol column are TCP.
'@
        }
        @{
            Title   = 'Check UDP services'
            Code    = @'
# 10.255.255.53 is the resolver in /etc/resolv.conf.
Test-SocketPort -ComputerName 10.255.255.53 -Port domain, ntp -Protocol Udp

# A UDP socket that receives and never answers.
$syslog = Start-SocketServer -Protocol Udp -Port 5514
Test-SocketPort -ComputerName 127.0.0.1 -Port 5514 -Protocol Udp -TimeoutSeconds 1 | Format-List Status, Probe, Message
'@
            Output  = @'
ComputerName       RemoteAddress   Port      Status         Latency Message
------------       -------------   ----      ------         ------- -------
10.255.255.53      10.255.255.53   53/udp    Open            2.5 ms A DNS server answered (NXDOMAIN, 17 bytes).
10.255.255.53      10.255.255.53   123/udp   Refused         1.7 ms Nothing listens there: ICMP port unreachable.

Status  : NoAnswer
Probe   : Empty
Message : No answer within 1 second: the port may be open or filtered; UDP has no handshake, and most services ignore an
           empty datagram.
'@
            Remarks = @'
UDP has no handshake, so a UDP check sends a probe and waits for an answer. Port 53 gets a real DNS
query (the root's name servers) and port 123 a real NTP request; any answer means Open (this
resolver answers NXDOMAIN even for the root, which proves the port open all the same). ICMP port
unreachable means Refused. Silence is NoAnswer: the port may be open, with a service that ignored
the probe, or filtered. Other ports get an empty datagram, which most services ignore;
-UdpProbe Dns or Ntp sends a real request to a port of your choosing.
'@
        }
        @{
            Title   = 'Scan a range of ports'
            Code    = @'
$watch = [System.Diagnostics.Stopwatch]::StartNew()
$results = Test-SocketPort -ComputerName 127.0.0.1 -Port 1-10000
"$($results.Count) checks in $($watch.Elapsed.TotalSeconds.ToString('0.00')) s"
$results | Where-Object IsOpen
'@
            Output  = @'
10000 checks in 0.67 s

ComputerName       RemoteAddress   Port      Status         Latency Message
------------       -------------   ----      ------         ------- -------
127.0.0.1          127.0.0.1       2024/tcp  Open            2.8 ms A TCP connection was made.
127.0.0.1          127.0.0.1       8080/tcp  Open            3.2 ms A TCP connection was made.
'@
            Remarks = @'
10,000 checks, at most 100 at a time (-ThrottleLimit), each an asynchronous connect rather than a
thread. A host that drops packets instead of refusing makes each of its checks last
-TimeoutSeconds (default 3), so such a scan takes about checks / ThrottleLimit x TimeoutSeconds.
'@
        }
        @{
            Title   = 'Check ports through a proxy'
            Code    = @'
# A SOCKS proxy on 127.0.0.1:1080 (ssh -N -D 1080 bastion.example), and a service behind it.
$web = Start-SocketServer

$results = Test-SocketPort -ComputerName 127.0.0.1 -Port $web.Port, 9 -Proxy socks5://127.0.0.1:1080
$results | Format-Table ComputerName, Port, Status, Proxy
$results[1].Message
'@
            Output  = @'
ComputerName  Port  Status Proxy
------------  ----  ------ -----
127.0.0.1    45431    Open socks5://127.0.0.1:1080
127.0.0.1        9 Refused socks5://127.0.0.1:1080

The SOCKS5 proxy 127.0.0.1:1080 could not connect to 127.0.0.1:9: it answered 5, connection
refused (nothing listens on that port, as the proxy sees it). Check the port, and that the
service runs.
'@
            Remarks = @'
With -Proxy the proxy connects to each port and its answer is the result: what the ports look
like from the proxy's side of a firewall. SOCKS5 says Refused, Unreachable or TimedOut; an answer
that does not say why (HTTP's 500) is Failed; a proxy that cannot be used at all (down, wrong
password, not a proxy) is ProxyFailed, with its reason in Message.
'@
        }
        @{
            Title   = 'Check from a chosen source address and port'
            Code    = @'
$web = Start-SocketServer

Test-SocketPort -ComputerName 127.0.0.1 -Port $web.Port, 9 -LocalAddress 127.0.0.2 -LocalPort 40001 |
    Format-Table ComputerName, Port, Status, LocalEndPoint
'@
            Output  = @'
ComputerName  Port  Status LocalEndPoint
------------  ----  ------ -------------
127.0.0.1    35633    Open 127.0.0.2:40001
127.0.0.1        9 Refused 127.0.0.2:40001
'@
            Remarks = @'
-LocalAddress and -LocalPort (nc -s, nc -p) bind each check's socket first, for firewalls that
allow some source addresses or ports only; LocalEndPoint shows where each check came from. With
a fixed -LocalPort the checks run one after another, since one port can be bound once at a time.
'@
        }
        @{
            Title   = 'Check a port again and again (tcping)'
            Code    = @'
Test-SocketPort -ComputerName localhost -Port 8080, 8081 -Count 3
'@
            Output  = @'
  Seq ComputerName        Port Status       Latency ms Message
  --- ------------        ---- ------       ---------- -------
    1 localhost           8080 Open                8.7 A TCP connection was ma…
    1 localhost           8081 Refused            73.6 Nothing listens there: …
    2 localhost           8080 Open                7.7 A TCP connection was ma…
    2 localhost           8081 Refused             1.5 Nothing listens there: …
    3 localhost           8080 Open                4.4 A TCP connection was ma…
    3 localhost           8081 Refused             0.6 Nothing listens there: …
'@
            Remarks = @'
Each round checks both ports at once and writes its results in input order; the next round starts
a second (-IntervalSeconds) after the last one started. Seq is the result's Sequence property,
Latency ms its LatencyMilliseconds. The first attempts of a session include .NET's start-up.
'@
        }
        @{
            Title   = 'Sum up loss and latency'
            Code    = @'
Test-SocketPort -ComputerName localhost -Port 8080, 8081 -Count 5 -IntervalSeconds 0.5 -Summary
'@
            Output  = @'
ComputerName        Port  Sent Answered Loss %  Min ms  Avg ms  Max ms  StdDev
------------        ----  ---- -------- ------  ------  ------  ------  ------
localhost           8080     5        5      0     0.8     2.9     8.3     2.7
localhost           8081     5        0    100
'@
            Remarks = @'
One PortTestSummary per host and port when the attempts are done, as ping and tcping print at the
end: an attempt that found the port open is answered, any other is lost. The latency columns are
milliseconds over the answered attempts, so a port that never answered has none. Without -Count,
-Summary makes 4 attempts. Works the same for UDP (-Protocol Udp), where an answer to the probe
counts.
'@
        }
        @{
            Title   = 'Watch a port until told to stop'
            Code    = @'
Test-SocketPort -ComputerName localhost -Port 8080 -Continuous | Select-Object -First 4
'@
            Output  = @'
  Seq ComputerName        Port Status       Latency ms Message
  --- ------------        ---- ------       ---------- -------
    1 localhost           8080 Open                0.5 A TCP connection was ma…
    2 localhost           8080 Open                7.7 A TCP connection was ma…
    3 localhost           8080 Open                1.1 A TCP connection was ma…
    4 localhost           8080 Open                4.4 A TCP connection was ma…
'@
            Remarks = @'
-Continuous checks every -IntervalSeconds until Ctrl+C (ping -t, tcping -t), writing each
attempt as it finishes; here Select-Object -First 4 stops it after the fourth. Either way the
command ends at once, also in the middle of a long pause, and leaves no socket open.
'@
        }
    )
    ParameterDefaults = @{
        Count           = '1 (4 with -Summary)'
        IntervalSeconds = '1'
    }
    Outputs  = @{
        'SockPS.Core.PortTestResult'  = 'One per host and port (with -Count or -Continuous, one per attempt): ComputerName, RemoteAddress, Port, Protocol, Status (Open, Refused, TimedOut, NoAnswer, HostNotFound, Unreachable, Failed, or ProxyFailed with -Proxy), IsOpen, Latency, LatencyMilliseconds, Message, Attempts, Sequence, LocalEndPoint (where the check came from), Proxy and, for UDP, Probe.'
        'System.Boolean'              = 'With -Quiet: $true when the port is open, $false otherwise, one per check (or attempt).'
        'SockPS.Core.PortTestSummary' = 'With -Summary: one per host and port, after the last attempt: ComputerName, RemoteAddress, Port, Protocol, Sent, Answered, LossPercent, Minimum, Average, Maximum and StandardDeviation (milliseconds, of the answered attempts; empty when none answered) and LastStatus.'
        'SockPS.Commands.SockPSJob' = 'With -AsJob: the job (a SockPS.Commands.SockPSJob, PSJobTypeName SockPSJob), at once; Receive-Job returns what the command returns without -AsJob, as the live objects.'
    }
    Notes    = @(
        'Results are written in input order (hosts, then ports, as given). A result is written as soon as it and every check before it have finished, when the next input arrives or at the end; at most 256 checks (or 4 x -ThrottleLimit) wait unwritten, and further input waits for them.'
        'A name with several addresses is tested as Connect-Socket connects: the addresses in the resolver''s order until one is open, all within -TimeoutSeconds. RemoteAddress is the address that opened, or the last one tried, and the Message of a failure lists the addresses tried. To test every address: (Resolve-SocketAddress -ComputerName name).Address | Test-SocketPort -Port 443. Each name is looked up once per command.'
        'An open TCP port is closed again at once, with a normal close: the service sees a client that connected and left. Linux rate-limits the ICMP errors that tell a closed UDP port (about 1,000 a second), so a large UDP sweep of closed ports may see NoAnswer where Refused is true; the probe is resent every second, up to three times, which recovers most, and a lower -ThrottleLimit recovers the rest.'
        'With -Wait, an attempt that gets no answer gives up after 5 seconds (or -RetryIntervalSeconds, when longer) and a new one starts, so a port that opens is noticed soon even while the OS backs off its SYN retransmissions.'
        'With -Count, -Continuous or -Summary the input is collected first, and the rounds start when it ends. An attempt counts as answered when the port is Open; Refused, TimedOut and every other status count as lost. LossPercent has one decimal; the latency statistics are over the answered attempts only, and StandardDeviation is the population one, as ping''s mdev. -Continuous stops at Ctrl+C, or when a later command (Select-Object -First) has enough, also in the middle of the pause between rounds; no summary follows it, so -Summary goes with -Count (or alone: 4 attempts).'
        'Invalid input (a port out of range, an unknown service name, a negative timeout, -ThrottleLimit below 1) stops the command with an InvalidArgument error before anything is checked for that input.'
        '-AsJob runs the command as a job in this process (as Start-ThreadJob does) and returns the job at once: Get-Job lists it, Wait-Job waits for it, Receive-Job returns its output (the live objects: a connection is the one Get-SocketConnection lists) and its errors with the same ids as without -AsJob, Stop-Job cancels the work as Ctrl+C does. It runs in the caller''s current folder with the caller''s parameters and pipeline input; what it opens belongs to the caller''s runspace (Remove-Module). Jobs stay listed until Remove-Job or Receive-Job -AutoRemoveJob.'
    )
    Links    = @('Connect-Socket', 'Resolve-SocketAddress', 'about_SockPS')
}
