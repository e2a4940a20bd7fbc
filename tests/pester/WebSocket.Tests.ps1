#Requires -Version 7.4
# WebSocket (issue 15, item 4) against peers nobody here wrote: Python's websockets (Debian
# python3-websockets, imported by /usr/bin/python3) and Node's ws (Debian node-ws). Both
# directions: SockPS's client to their server, their client to SockPS's server; text, a 16 MiB
# binary message compared by SHA-256, TLS with a throw-away CA made in a temp folder, close codes
# and pings. The peers print what they saw, so each side checks the other.

BeforeAll {
    Import-Module $env:SOCKPS_MODULE_PATH -Force
    Import-Module "$PSScriptRoot/SockPS.TestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.TlsTestHelpers.psm1" -Force
    Import-Module "$PSScriptRoot/SockPS.RemotePeers.psm1"

    $script:python = '/usr/bin/python3'
    & $script:python -c 'import websockets' 2>$null
    if ($LASTEXITCODE -ne 0) {
        throw 'Python''s websockets is not installed for /usr/bin/python3; .ci/run installs it (apt-get install python3-websockets).'
    }
    $script:node = (Get-Command -Name node -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1)
    if (-not $script:node) {
        throw 'node is not installed; .ci/run installs it with node-ws (apt-get install node-ws).'
    }
    # Debian's node-ws lives in /usr/share/nodejs, which only Debian's own node searches; a node
    # from elsewhere on PATH finds it through NODE_PATH.
    $script:nodeEnvironment = @{ NODE_PATH = (@('/usr/share/nodejs', $env:NODE_PATH) | Where-Object { $_ }) -join ':' }
    $env:NODE_PATH, $savedNodePath = $script:nodeEnvironment.NODE_PATH, $env:NODE_PATH
    & $script:node.Source -e "require('ws')" 2>$null
    $env:NODE_PATH = $savedNodePath
    if ($LASTEXITCODE -ne 0) {
        throw 'Node''s ws package is not installed; .ci/run installs it (apt-get install node-ws).'
    }

    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ("sockps-ws-" + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $script:work
    $script:certs = New-TestCertificateSet -Directory (Join-Path $script:work 'certs')

    # An echo server: prints its port; text "close <code> <reason>" closes with that code, text
    # "ping me" pings the client and answers "pong <ms>" once the pong came back; binary is
    # echoed after a text line with its length and SHA-256. argv: [certfile keyfile].
    $script:pyServer = Join-Path $script:work 'server.py'
    Set-Content -LiteralPath $script:pyServer -Value @'
import asyncio, hashlib, ssl, sys, time, websockets
async def handler(ws):
    print('path', ws.path, 'subprotocol', ws.subprotocol, flush=True)
    try:
        async for m in ws:
            if isinstance(m, bytes):
                await ws.send('binary %d %s' % (len(m), hashlib.sha256(m).hexdigest()))
                await ws.send(m)
            elif m.startswith('close '):
                _, code, reason = m.split(' ', 2)
                await ws.close(int(code), reason)
            elif m == 'ping me':
                start = time.monotonic()
                await asyncio.wait_for(await ws.ping(), 10)
                await ws.send('pong %d' % ((time.monotonic() - start) * 1000))
            else:
                await ws.send(m)
    except websockets.ConnectionClosed:
        pass  # a close code other than 1000/1001 ends the loop this way
    print('closed', ws.close_code, ws.close_reason, flush=True)
async def main():
    ctx = None
    if len(sys.argv) > 2:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with websockets.serve(handler, '127.0.0.1', 0, ssl=ctx, max_size=None, subprotocols=['chat.v1']) as server:
        print('port', server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
'@

    # A client: argv uri [cafile]. Sends "hello", a 16 MiB binary message, pings, and closes
    # with 4002; prints what it sent and what came back.
    $script:pyClient = Join-Path $script:work 'client.py'
    Set-Content -LiteralPath $script:pyClient -Value @'
import asyncio, hashlib, os, ssl, sys, websockets
async def main():
    ctx = None
    if len(sys.argv) > 2:
        ctx = ssl.create_default_context(cafile=sys.argv[2])
    async with websockets.connect(sys.argv[1], ssl=ctx, max_size=None) as ws:
        await ws.send('hello from python')
        print('text', await asyncio.wait_for(ws.recv(), 20), flush=True)
        data = os.urandom(16 * 1024 * 1024)
        print('sent', len(data), hashlib.sha256(data).hexdigest(), flush=True)
        await ws.send(data)
        back = await asyncio.wait_for(ws.recv(), 60)
        print('back', type(back).__name__, len(back), hashlib.sha256(back).hexdigest(), flush=True)
        await asyncio.wait_for(await ws.ping(), 10)
        print('pong', flush=True)
        await ws.close(4002, 'python done')
        print('closed', ws.close_code, flush=True)
asyncio.run(main())
'@

    # Node's ws, both roles. server [cert key]: echo (text stays text, binary stays binary),
    # prints its port and each close code. client uri [ca]: as the Python client.
    $script:nodeScript = Join-Path $script:work 'peer.js'
    Set-Content -LiteralPath $script:nodeScript -Value @'
const WebSocket = require('ws');
const crypto = require('crypto'), fs = require('fs'), https = require('https');
const sha = b => crypto.createHash('sha256').update(b).digest('hex');
const [mode, a, b] = process.argv.slice(2);
if (mode === 'server') {
  let wss;
  const onConn = ws => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => console.log('closed', code, reason.toString()));
  };
  if (a) {
    const server = https.createServer({ cert: fs.readFileSync(a), key: fs.readFileSync(b) });
    wss = new WebSocket.Server({ server, maxPayload: 0 });
    wss.on('connection', onConn);
    server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
  } else {
    wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, maxPayload: 0 }, () => console.log('port', wss.address().port));
    wss.on('connection', onConn);
  }
} else {
  const ws = new WebSocket(a, { ca: b ? fs.readFileSync(b) : undefined, maxPayload: 0 });
  let step = 0, data;
  ws.on('open', () => ws.send('hello from node'));
  ws.on('message', (m, isBinary) => {
    if (step === 0) {
      console.log('text', m.toString());
      data = crypto.randomBytes(16 * 1024 * 1024);
      console.log('sent', data.length, sha(data));
      ws.send(data);
      step = 1;
    } else {
      console.log('back', isBinary ? 'bytes' : 'str', m.length, sha(m));
      ws.ping();
    }
  });
  ws.on('pong', () => { console.log('pong'); ws.close(4003, 'node done'); });
  ws.on('close', code => { console.log('closed', code); process.exit(0); });
  ws.on('error', e => { console.log('error', e.message); process.exit(1); });
}
'@

    function Start-PythonServer([switch] $Tls) {
        $arguments = @($script:pyServer)
        if ($Tls) { $arguments += @($script:certs.ServerPath, $script:certs.ServerKeyPath) }
        $process = Start-TestProcess -FilePath $script:python -ArgumentList $arguments
        $port = [int](Wait-TestProcessLine -Process $process -Pattern '^port (\d+)').Groups[1].Value
        [pscustomobject]@{ Process = $process; Port = $port }
    }

    function Start-NodeServer([switch] $Tls) {
        $arguments = @($script:nodeScript, 'server')
        if ($Tls) { $arguments += @($script:certs.ServerPath, $script:certs.ServerKeyPath) }
        $process = Start-TestProcess -FilePath $script:node.Source -ArgumentList $arguments -Environment $script:nodeEnvironment
        $port = [int](Wait-TestProcessLine -Process $process -Pattern '^port (\d+)').Groups[1].Value
        [pscustomobject]@{ Process = $process; Port = $port }
    }

    # The SockPS side of a 16 MiB round trip: one binary message out, one back, both by SHA-256.
    function Test-BigRoundTrip($Connection, [switch] $PeerReportsHash) {
        $data = New-TestRandomBytes -Count (16 * 1024 * 1024) -Seed 15
        $sent = Get-TestSha256 -Bytes $data
        Send-SocketData -Connection $Connection -InputObject $data
        if ($PeerReportsHash) {
            $report = Receive-SocketData -Connection $Connection -TimeoutSeconds 60
            $report.MessageType | Should -Be 'Text'
            $report.Text | Should -Be ("binary {0} {1}" -f $data.Length, $sent.ToLowerInvariant())
        }
        $back = Receive-SocketData -Connection $Connection -TimeoutSeconds 60
        $back.MessageType | Should -Be 'Binary'
        $back.Length | Should -Be $data.Length
        Get-TestSha256 -Bytes $back.Data | Should -Be $sent
    }

    # SockPS's echo server: a -ScriptBlock handler that sends every message back as it came.
    function Start-EchoServer([switch] $Tls, [string] $WebSocketPath) {
        $parameters = @{
            WebSocket   = $true
            ScriptBlock = {
                param($Connection)
                while ($null -ne ($m = Receive-SocketData -Connection $Connection -TimeoutSeconds 60)) {
                    $m | Send-SocketData -Connection $Connection
                }
            }
        }
        if ($Tls) { $parameters.Certificate = $script:certs.Server }
        if ($WebSocketPath) { $parameters.WebSocketPath = $WebSocketPath }
        Start-SocketServer @parameters
    }
}

AfterAll {
    Stop-TestProcess -All
    Get-SocketConnection | Disconnect-Socket
    Get-SocketServer | Stop-SocketServer
    if ($script:work -and (Test-Path -LiteralPath $script:work)) {
        Remove-Item -LiteralPath $script:work -Recurse -Force
    }
}

Describe 'Connect-Socket -Uri ws:// to Python''s websockets' {
    BeforeAll {
        $script:peer = Start-PythonServer
    }

    AfterAll {
        Stop-TestProcess -Process $script:peer.Process
    }

    It 'exchanges text messages, each one object, and offers a subprotocol' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/room?x=1" -SubProtocol chat.v1, other
        try {
            $c.IsWebSocket | Should -BeTrue
            $c.Transport | Should -Be 'Ws'
            $c.SubProtocol | Should -Be 'chat.v1'
            $null = Wait-TestProcessLine -Process $script:peer.Process -Pattern '^path /room\?x=1 subprotocol chat.v1$'
            'one', 'two' | Send-SocketData -Connection $c
            $first = Receive-SocketData -Connection $c
            $second = Receive-SocketData -Connection $c
            $first.MessageType | Should -Be 'Text'
            $first.Text | Should -Be 'one'
            "$second" | Should -Be 'two'
            $c.MessagesSent | Should -Be 2
            $c.MessagesReceived | Should -Be 2
        }
        finally {
            $c | Disconnect-Socket
        }
    }

    It 'sends and receives 16 MiB in one binary message (SHA-256 on both sides)' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        try {
            Test-BigRoundTrip -Connection $c -PeerReportsHash
        }
        finally {
            $c | Disconnect-Socket
        }
    }

    It 'answers the server''s ping' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        try {
            'ping me' | Send-SocketData -Connection $c
            (Receive-SocketData -Connection $c -TimeoutSeconds 15).Text | Should -Match '^pong \d+$'
        }
        finally {
            $c | Disconnect-Socket
        }
    }

    It 'shows the server''s close code and reason in CloseReason' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        'close 4001 gone fishing' | Send-SocketData -Connection $c
        Receive-SocketData -Connection $c -TimeoutSeconds 15 | Should -BeNullOrEmpty
        $c.State | Should -Be 'Closed'
        $c.WebSocketCloseStatus | Should -Be 4001
        $c.WebSocketCloseDescription | Should -Be 'gone fishing'
        $c.CloseReason | Should -Be "The remote host closed the WebSocket: 4001 (application-defined) 'gone fishing'."
        $c | Disconnect-Socket
    }

    It 'closes with 1000 when Disconnect-Socket closes it, and the server sees that code' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        $c | Disconnect-Socket
        $c.WebSocketCloseStatus | Should -Be 1000
        $null = Wait-TestProcessLine -Process $script:peer.Process -Pattern '^closed 1000 $' -FromStart
    }

    It 'sends the close code and reason of Disconnect-Socket -CloseStatus -CloseDescription' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        Disconnect-Socket -Connection $c -CloseStatus 4005 -CloseDescription 'all done'
        $c.WebSocketCloseStatus | Should -Be 4005
        $c.CloseReason | Should -Be "Closed by this side. WebSocket close 4005 (application-defined) 'all done'."
        $null = Wait-TestProcessLine -Process $script:peer.Process -Pattern '^closed 4005 all done$' -FromStart
    }

    It 'refuses a reserved close code, and -CloseStatus on a connection that is not a WebSocket' {
        $c = Connect-Socket -Uri "ws://127.0.0.1:$($script:peer.Port)/"
        try {
            { Disconnect-Socket -Connection $c -CloseStatus 1006 } | Should -Throw -ErrorId 'InvalidArgument,*'
            $c.State | Should -Be 'Open'
        }
        finally {
            $c | Disconnect-Socket
        }
        $server = Start-SocketServer
        try {
            $plain = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            $errors = Get-TestWrittenError { Disconnect-Socket -Connection $plain -CloseStatus 4000 }
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
            $plain.State | Should -Be 'Open'
            $plain | Disconnect-Socket
        }
        finally {
            $server | Stop-SocketServer
        }
    }

    It 'says WebSocketHandshakeFailed when the port does not speak WebSocket' {
        $plain = Start-SocketServer -ScriptBlock { param($Connection) Send-SocketData -Connection $Connection -InputObject "HTTP/1.1 200 OK`r`nContent-Length: 0`r`n`r`n" }
        try {
            $errors = Get-TestWrittenError { Connect-Socket -Uri "ws://127.0.0.1:$($plain.Port)/" }
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'WebSocketHandshakeFailed,*'
            $errors[0].Exception.Message | Should -Match 'HTTP/1.1 200 OK'
        }
        finally {
            $plain | Stop-SocketServer
        }
    }
}

Describe 'Connect-Socket -Uri wss:// to Python''s websockets' {
    BeforeAll {
        $script:tlsPeer = Start-PythonServer -Tls
    }

    AfterAll {
        Stop-TestProcess -Process $script:tlsPeer.Process
    }

    It 'checks the certificate by default: an unknown CA is TlsAuthenticationFailed' {
        $errors = Get-TestWrittenError { Connect-Socket -Uri "wss://localhost:$($script:tlsPeer.Port)/" }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TlsAuthenticationFailed,*'
    }

    It 'trusts -CaCertificate and moves text and 16 MiB over TLS' {
        $c = Connect-Socket -Uri "wss://localhost:$($script:tlsPeer.Port)/" -CaCertificate $script:certs.CaPath
        try {
            $c.Transport | Should -Be 'Wss'
            $c.IsTls | Should -BeTrue
            'over tls' | Send-SocketData -Connection $c
            (Receive-SocketData -Connection $c).Text | Should -Be 'over tls'
            Test-BigRoundTrip -Connection $c -PeerReportsHash
        }
        finally {
            $c | Disconnect-Socket
        }
    }

    It 'takes a public key pin instead of a CA, as for TCP' {
        $pin = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($script:certs.Server.PublicKey.ExportSubjectPublicKeyInfo()))
        $c = Connect-Socket -Uri "wss://localhost:$($script:tlsPeer.Port)/" -PublicKeySha256 $pin
        $c.IsWebSocket | Should -BeTrue
        $c | Disconnect-Socket
        $wrong = '00' * 32
        $errors = Get-TestWrittenError { Connect-Socket -Uri "wss://localhost:$($script:tlsPeer.Port)/" -PublicKeySha256 $wrong }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'TlsAuthenticationFailed,*'
    }
}

Describe 'Python''s websockets client to Start-SocketServer -WebSocket' {
    It 'echoes text and 16 MiB, answers its ping, and records its close code (<Name>)' -ForEach @(
        @{ Name = 'ws'; Tls = $false }
        @{ Name = 'wss'; Tls = $true }
    ) {
        $server = Start-EchoServer -Tls:$Tls -WebSocketPath '/echo'
        try {
            $server.Transport | Should -Be ($Tls ? 'Wss' : 'Ws')
            $uri = $Tls ? "wss://localhost:$($server.Port)/echo" : "ws://127.0.0.1:$($server.Port)/echo"
            $arguments = @($script:pyClient, $uri)
            if ($Tls) { $arguments += $script:certs.CaPath }
            $client = Start-TestProcess -FilePath $script:python -ArgumentList $arguments
            $null = Wait-TestProcessLine -Process $client -Pattern '^text hello from python$' -TimeoutSeconds 30
            $sent = Wait-TestProcessLine -Process $client -Pattern '^sent (\d+) ([0-9a-f]{64})$' -TimeoutSeconds 30
            $back = Wait-TestProcessLine -Process $client -Pattern '^back (\w+) (\d+) ([0-9a-f]{64})$' -TimeoutSeconds 60
            $back.Groups[1].Value | Should -Be 'bytes'
            $back.Groups[2].Value | Should -Be $sent.Groups[1].Value
            $back.Groups[3].Value | Should -Be $sent.Groups[2].Value
            $null = Wait-TestProcessLine -Process $client -Pattern '^pong$' -TimeoutSeconds 15
            $null = Wait-TestProcessLine -Process $client -Pattern '^closed 4002$' -TimeoutSeconds 15
            $null = Wait-TestProcessExit -Process $client -ExpectedExitCode 0
        }
        finally {
            $server | Stop-SocketServer
        }
    }

    It 'answers 404 to another path and counts the client in AcceptErrorCount' {
        $server = Start-EchoServer -WebSocketPath '/echo'
        try {
            $client = Start-TestProcess -FilePath $script:python -ArgumentList @($script:pyClient, "ws://127.0.0.1:$($server.Port)/elsewhere")
            $null = Wait-TestProcessLine -Process $client -Pattern 'HTTP 404' -Stream Error -TimeoutSeconds 20
            Wait-TestCondition -Condition { $server.AcceptErrorCount -ge 1 } -TimeoutSeconds 10 -Description 'the server counts the refused upgrade'
            $server.LastAcceptError | Should -Match 'asked for /elsewhere; this server serves WebSocket on /echo only'
        }
        finally {
            $server | Stop-SocketServer
        }
    }
}

Describe 'Node''s ws' {
    It 'SockPS client to a ws server: text stays text, 16 MiB binary comes back whole (<Name>)' -ForEach @(
        @{ Name = 'ws'; Tls = $false }
        @{ Name = 'wss'; Tls = $true }
    ) {
        $peer = Start-NodeServer -Tls:$Tls
        try {
            $c = $Tls `
                ? (Connect-Socket -Uri "wss://localhost:$($peer.Port)/" -CaCertificate $script:certs.CaPath)
                : (Connect-Socket -Uri "ws://127.0.0.1:$($peer.Port)/")
            'héllo node' | Send-SocketData -Connection $c
            $m = Receive-SocketData -Connection $c
            $m.MessageType | Should -Be 'Text'
            $m.Text | Should -Be 'héllo node'
            Test-BigRoundTrip -Connection $c
            $c | Disconnect-Socket
            $null = Wait-TestProcessLine -Process $peer.Process -Pattern '^closed 1000' -TimeoutSeconds 15
        }
        finally {
            Stop-TestProcess -Process $peer.Process
        }
    }

    It 'SockPS client through a SOCKS5 proxy (microsocks) to a wss server: TLS end to end, checked against the target''s name' {
        $socks = Start-TestSocksProxy
        $peer = Start-NodeServer -Tls
        try {
            $c = Connect-Socket -Uri "wss://localhost:$($peer.Port)/" -CaCertificate $script:certs.CaPath -Proxy $socks.Uri
            $c.Proxy | Should -BeLike 'socks5://127.0.0.1:*'
            'through the proxy' | Send-SocketData -Connection $c
            (Receive-SocketData -Connection $c).Text | Should -Be 'through the proxy'
            $c | Disconnect-Socket
        }
        finally {
            Stop-TestProcess -Process $peer.Process
            Stop-TestSocksProxy -Proxy $socks
        }
    }

    It 'ws client to Start-SocketServer -WebSocket: text, 16 MiB, ping, close code (<Name>)' -ForEach @(
        @{ Name = 'ws'; Tls = $false }
        @{ Name = 'wss'; Tls = $true }
    ) {
        $server = Start-EchoServer -Tls:$Tls
        try {
            $uri = $Tls ? "wss://localhost:$($server.Port)/" : "ws://127.0.0.1:$($server.Port)/"
            $arguments = @($script:nodeScript, 'client', $uri)
            if ($Tls) { $arguments += $script:certs.CaPath }
            $client = Start-TestProcess -FilePath $script:node.Source -ArgumentList $arguments -Environment $script:nodeEnvironment
            $null = Wait-TestProcessLine -Process $client -Pattern '^text hello from node$' -TimeoutSeconds 30
            $sent = Wait-TestProcessLine -Process $client -Pattern '^sent (\d+) ([0-9a-f]{64})$' -TimeoutSeconds 30
            $back = Wait-TestProcessLine -Process $client -Pattern '^back (\w+) (\d+) ([0-9a-f]{64})$' -TimeoutSeconds 60
            $back.Groups[1].Value | Should -Be 'bytes'
            $back.Groups[2].Value | Should -Be $sent.Groups[1].Value
            $back.Groups[3].Value | Should -Be $sent.Groups[2].Value
            $null = Wait-TestProcessLine -Process $client -Pattern '^pong$' -TimeoutSeconds 15
            $null = Wait-TestProcessLine -Process $client -Pattern '^closed 4003$' -TimeoutSeconds 15
        }
        finally {
            $server | Stop-SocketServer
        }
    }
}

Describe 'WebSocket connections in the engine''s other cmdlets' {
    It 'Wait-SocketConnection hands out upgraded clients; Wait-SocketData, transcripts and -Shutdown Send work on them' {
        $server = Start-SocketServer -WebSocket -SubProtocol chat.v1
        try {
            $client = Connect-Socket -Uri "ws://127.0.0.1:$($server.Port)/x" -SubProtocol chat.v1 -TranscriptPath (Join-Path $script:work 'client.jsonl')
            $accepted = Wait-SocketConnection -Server $server -TimeoutSeconds 10
            $accepted.IsWebSocket | Should -BeTrue
            $accepted.Resource | Should -Be '/x'
            $accepted.SubProtocol | Should -Be 'chat.v1'
            (Get-SocketConnection -Id $accepted.Id).Id | Should -Be $accepted.Id
            'to server' | Send-SocketData -Connection $client
            $ready = Wait-SocketData -Connection $accepted -TimeoutSeconds 10
            $ready.Id | Should -Be $accepted.Id
            (Receive-SocketData -Connection $accepted).Text | Should -Be 'to server'
            Send-SocketData -Connection $accepted -InputObject ([byte[]](0, 1, 2))
            $m = Receive-SocketData -Connection $client
            $m.MessageType | Should -Be 'Binary'
            $m.Data -join ',' | Should -Be '0,1,2'
            $entries = @(Get-SocketTranscript -Connection $client)
            $entries.Count | Should -Be 2
            $entries[0].Direction | Should -Be 'Sent'
            $entries[0].Text | Should -Be 'to server'
            Disconnect-Socket -Connection $client -Shutdown Send
            Receive-SocketData -Connection $accepted -TimeoutSeconds 10 | Should -BeNullOrEmpty
            $accepted.WebSocketCloseStatus | Should -Be 1000
            $accepted.CloseReason | Should -Match '1000 \(NormalClosure\)'
            $client, $accepted | Disconnect-Socket
        }
        finally {
            $server | Stop-SocketServer
        }
    }

    It 'Invoke-SocketRequest says it does not speak WebSocket, before connecting, and offers no WebSocket parameters' {
        { Invoke-SocketRequest -Uri 'ws://127.0.0.1:9/' -InputObject 'x' } | Should -Throw -ErrorId 'InvalidArgument,*'
        (Get-Command Invoke-SocketRequest).Parameters.Keys | Should -Not -Contain 'Header'
        (Get-Command Invoke-SocketRequest).Parameters.Keys | Should -Not -Contain 'SubProtocol'
        (Get-Command Connect-Socket).Parameters.Keys | Should -Contain 'Header'
        (Get-Command Enter-SocketSession).Parameters.Keys | Should -Contain 'SubProtocol'
    }

    It 'refuses stream-only framing on a WebSocket with InvalidArgument' {
        $server = Start-SocketServer -WebSocket
        try {
            $client = Connect-Socket -Uri "ws://127.0.0.1:$($server.Port)/"
            $errors = Get-TestWrittenError { Receive-SocketData -Connection $client -Line -TimeoutSeconds 1 }
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
            $errors[0].Exception.Message | Should -Match 'is a WebSocket'
            $client | Disconnect-Socket
        }
        finally {
            $server | Stop-SocketServer
        }
    }
}
