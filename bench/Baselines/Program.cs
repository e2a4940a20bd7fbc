using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

// Baseline programs for bench/Invoke-Benchmark.ps1. Every mode prints "port <n>" when it listens
// and one "result key=value ..." line when it has measured something; times are in seconds.
//   bulk-recv <file|-> <bufferBytes>          accept one client, copy the stream to a file
//   bulk-send <port> <file> <bufferBytes>      connect, copy a file to the stream, half-close
//   echo-server                                echo every connection (an async task each) until stdin closes
//   echo-server-threads                        the same with a blocking thread per connection
//   rr-client <port> <count> <size>            request/response round trips (after a few untimed ones)
//   rr-clients <port> <clients> <count> <size> that many rr-clients at once, <count> round trips each;
//                                              reports the total (count = clients x count)
//   idle-server <count>                        accept <count> connections, each waiting with a zero-byte read
//   idle-client <port> <count>                 open <count> connections and hold them until stdin closes
//   udp-send <port> <count> <size>             send datagrams as fast as possible
//   udp-sink                                   read datagrams as fast as possible until stdin closes, then
//                                              report how many arrived
string mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "bulk-recv": await BulkReceive(args[1], int.Parse(args[2])); break;
    case "bulk-send": await BulkSend(int.Parse(args[1]), args[2], int.Parse(args[3])); break;
    case "echo-server": await EchoServer(); break;
    case "echo-server-threads": EchoServerThreads(); break;
    case "rr-client": RequestResponse(int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3])); break;
    case "rr-clients": RequestResponseClients(int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4])); break;
    case "idle-server": await IdleServer(int.Parse(args[1])); break;
    case "idle-client": await IdleClient(int.Parse(args[1]), int.Parse(args[2])); break;
    case "udp-send": UdpSend(int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3])); break;
    case "udp-sink": UdpSink(); break;
    default: Console.Error.WriteLine("usage: see Program.cs"); return 2;
}

return 0;

static Socket Listen()
{
    Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    listener.Listen(4096);
    Console.WriteLine($"port {((IPEndPoint)listener.LocalEndPoint!).Port}");
    return listener;
}

static async Task BulkReceive(string path, int bufferSize)
{
    using Socket listener = Listen();
    using Socket client = await listener.AcceptAsync();
    using NetworkStream network = new(client);
    Stopwatch watch = Stopwatch.StartNew();
    using Stream file = path == "-" ? Stream.Null : new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
    byte[] buffer = new byte[bufferSize];
    long total = 0;
    int n;
    while ((n = await network.ReadAsync(buffer)) > 0)
    {
        await file.WriteAsync(buffer.AsMemory(0, n));
        total += n;
    }

    Console.WriteLine($"result bytes={total} seconds={watch.Elapsed.TotalSeconds:0.000000}");
}

static async Task BulkSend(int port, string path, int bufferSize)
{
    using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    await socket.ConnectAsync(IPAddress.Loopback, port);
    using NetworkStream network = new(socket);
    using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
    Stopwatch watch = Stopwatch.StartNew();
    byte[] buffer = new byte[bufferSize];
    int n;
    while ((n = await file.ReadAsync(buffer)) > 0)
    {
        await network.WriteAsync(buffer.AsMemory(0, n));
    }

    socket.Shutdown(SocketShutdown.Send);
    Console.WriteLine($"result bytes={file.Length} seconds={watch.Elapsed.TotalSeconds:0.000000}");
}

static async Task EchoServer()
{
    using Socket listener = Listen();
    _ = Task.Run(() => { Console.In.ReadToEnd(); Environment.Exit(0); });
    while (true)
    {
        Socket client = await listener.AcceptAsync();
        client.NoDelay = true;
        _ = Task.Run(async () =>
        {
            using (client)
            {
                byte[] buffer = new byte[65536];
                int n;
                try
                {
                    while ((n = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                    {
                        await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
                    }
                }
                catch (SocketException)
                {
                }
            }
        });
    }
}

// One blocking thread per connection: for one client doing request/response this avoids the
// thread-pool hops of the async server (a completion per receive and per send), which can make
// the server, not the client under test, the slowest part of a round trip.
static void EchoServerThreads()
{
    using Socket listener = Listen();
    new Thread(() => { Console.In.ReadToEnd(); Environment.Exit(0); }) { IsBackground = true }.Start();
    while (true)
    {
        Socket client = listener.Accept();
        client.NoDelay = true;
        new Thread(() =>
        {
            using (client)
            {
                byte[] buffer = new byte[65536];
                int n;
                try
                {
                    while ((n = client.Receive(buffer)) > 0)
                    {
                        client.Send(buffer, 0, n, SocketFlags.None);
                    }
                }
                catch (SocketException)
                {
                }
            }
        }) { IsBackground = true }.Start();
    }
}

static void RequestResponse(int port, int count, int size)
{
    using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    socket.Connect(IPAddress.Loopback, port);
    using NetworkStream network = new(socket);
    byte[] request = new byte[size];
    byte[] response = new byte[size];
    // Untimed first, as the pwsh loops do: JIT and the first wake-ups of both ends.
    int warmup = Math.Clamp(count / 10, 10, 500);
    for (int i = 0; i < warmup; i++)
    {
        network.Write(request);
        network.ReadExactly(response);
    }

    Stopwatch watch = Stopwatch.StartNew();
    for (int i = 0; i < count; i++)
    {
        network.Write(request);
        network.ReadExactly(response);
    }

    Console.WriteLine($"result count={count} seconds={watch.Elapsed.TotalSeconds:0.000000}");
}

// Each client on its own thread with blocking calls, as rr-client does. All connect first and
// send one untimed round trip (so a server that starts a handler per connection has started
// them all); the clock runs from a common start to the last client's end.
static void RequestResponseClients(int port, int clients, int count, int size)
{
    List<Socket> sockets = new(clients);
    try
    {
        byte[] warm = new byte[size];
        for (int i = 0; i < clients; i++)
        {
            Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            sockets.Add(socket);
            socket.Connect(IPAddress.Loopback, port);
        }

        foreach (Socket socket in sockets)
        {
            using NetworkStream network = new(socket, ownsSocket: false);
            network.Write(warm);
            network.ReadExactly(warm);
        }

        using Barrier start = new(clients + 1);
        Thread[] threads = new Thread[clients];
        Exception? failure = null;
        for (int i = 0; i < clients; i++)
        {
            Socket socket = sockets[i];
            threads[i] = new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    using NetworkStream network = new(socket, ownsSocket: false);
                    byte[] request = new byte[size];
                    byte[] response = new byte[size];
                    for (int n = 0; n < count; n++)
                    {
                        network.Write(request);
                        network.ReadExactly(response);
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            }) { IsBackground = true };
            threads[i].Start();
        }

        start.SignalAndWait();
        Stopwatch watch = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        watch.Stop();
        if (failure is not null)
        {
            throw failure;
        }

        Console.WriteLine($"result count={(long)clients * count} seconds={watch.Elapsed.TotalSeconds:0.000000} clients={clients}");
    }
    finally
    {
        foreach (Socket socket in sockets)
        {
            socket.Dispose();
        }
    }
}

static async Task IdleServer(int count)
{
    using Socket listener = Listen();
    List<Socket> held = new(count);
    long before = Memory();
    Stopwatch? watch = null;
    for (int i = 0; i < count; i++)
    {
        Socket client = await listener.AcceptAsync();
        watch ??= Stopwatch.StartNew();
        held.Add(client);
        // A minimal async server: each connection waits for data with a zero-byte read.
        _ = WaitForData(client);
    }

    double seconds = watch?.Elapsed.TotalSeconds ?? 0;
    long after = Memory();
    Console.WriteLine($"result count={count} seconds={seconds:0.000000} bytesPerConnection={(after - before) / Math.Max(1, count)}");
    Console.In.ReadToEnd();
    GC.KeepAlive(held);
}

static async Task WaitForData(Socket client)
{
    try
    {
        await client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
    }
    catch (SocketException)
    {
    }
}

static async Task IdleClient(int port, int count)
{
    List<Socket> held = new(count);
    Stopwatch watch = Stopwatch.StartNew();
    SemaphoreSlim concurrency = new(256);
    List<Task> connects = new(count);
    for (int i = 0; i < count; i++)
    {
        await concurrency.WaitAsync();
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        held.Add(socket);
        connects.Add(socket.ConnectAsync(IPAddress.Loopback, port).ContinueWith(t => { concurrency.Release(); t.GetAwaiter().GetResult(); }));
    }

    await Task.WhenAll(connects);
    Console.WriteLine($"result count={count} seconds={watch.Elapsed.TotalSeconds:0.000000}");
    Console.In.ReadToEnd();
    GC.KeepAlive(held);
}

static void UdpSend(int port, int count, int size)
{
    using Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    socket.Connect(IPAddress.Loopback, port);
    byte[] datagram = new byte[size];
    Stopwatch watch = Stopwatch.StartNew();
    for (int i = 0; i < count; i++)
    {
        socket.Send(datagram);
    }

    Console.WriteLine($"result count={count} seconds={watch.Elapsed.TotalSeconds:0.000000}");
}

// Reads with a blocking thread until stdin closes; the count shows how much of what was sent
// a draining reader keeps up with.
static void UdpSink()
{
    using Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    socket.ReceiveBufferSize = 4 << 20;
    socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    Console.WriteLine($"port {((IPEndPoint)socket.LocalEndPoint!).Port}");
    long count = 0;
    new Thread(() =>
    {
        Console.In.ReadToEnd();
        Console.WriteLine($"result count={Interlocked.Read(ref count)}");
        Environment.Exit(0);
    }) { IsBackground = true }.Start();
    byte[] buffer = new byte[65536];
    while (true)
    {
        socket.Receive(buffer);
        Interlocked.Increment(ref count);
    }
}

// Resident memory (RSS) after a full collection: managed objects and the native memory sockets use.
static long Memory()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }

    return Environment.WorkingSet;
}
