using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SockPS.Core;

/// <summary>How a stdio bridge ended, and what it moved.</summary>
public sealed class StdioBridgeResult
{
    internal StdioBridgeResult(long bytesSent, long bytesReceived, bool inputEnded, bool peerEnded, bool outputClosed)
    {
        BytesSent = bytesSent;
        BytesReceived = bytesReceived;
        InputEnded = inputEnded;
        PeerEnded = peerEnded;
        OutputClosed = outputClosed;
    }

    /// <summary>Bytes read from the input and sent.</summary>
    public long BytesSent { get; }

    /// <summary>Bytes received and written to the output.</summary>
    public long BytesReceived { get; }

    /// <summary>The input reached its end (and the connection was half-closed).</summary>
    public bool InputEnded { get; }

    /// <summary>The peer ended its side (end of stream, a WebSocket close).</summary>
    public bool PeerEnded { get; }

    /// <summary>The output could take no more (its reader went away).</summary>
    public bool OutputClosed { get; }
}

/// <summary>
/// socat STDIO, nc -N: copies an input stream to a connection and the connection to an output
/// stream, byte for byte, both ways at once. The input's end half-closes the connection (FIN, or
/// a WebSocket close frame) and the copy goes on until the peer ends its side, which ends the
/// bridge whether or not the input has ended. On a datagram socket every read of the input is
/// one datagram, every datagram received is written as it came, and the input's end ends the
/// bridge (a datagram has no end of stream to wait for). The output is flushed after every write.
/// </summary>
/// <remarks>The input is read on a thread of its own with blocking reads: a console's standard
/// input cannot be read any other way on every platform. A read that never returns (a terminal
/// nobody types in) is left behind when the peer ends the bridge; the process's exit ends it.</remarks>
public static class StdioBridge
{
    /// <summary>Bytes read from the input at once; a datagram socket sends each read as one datagram.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>How long a datagram socket goes on receiving after its input ended, while
    /// answers still come (socat's -t): each datagram starts the wait again.</summary>
    public static readonly TimeSpan DatagramLinger = TimeSpan.FromSeconds(0.5);

    /// <summary>Runs the bridge until the peer ends it, the output closes, a datagram socket's
    /// input ends (and <see cref="DatagramLinger"/> passes with nothing more), or
    /// <paramref name="cancellationToken"/> is cancelled. A failure of the connection (a reset)
    /// is thrown after the other direction stopped.</summary>
    public static async Task<StdioBridgeResult> RunAsync(SocketConnection connection, Stream input, Stream output, CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            throw new ArgumentNullException(nameof(connection));
        }

        using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long sent = 0;
        long received = 0;
        bool outputClosed = false;
        bool datagram = connection.IsDatagram;
        bool lingering = false;

        TaskCompletionSource<Exception?> inputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Thread reader = new(() =>
        {
            try
            {
                byte[] block = new byte[datagram ? 65507 : BlockSize];
                int n;
                while (!stop.IsCancellationRequested && (n = input.Read(block, 0, block.Length)) > 0)
                {
                    connection.SendAsync(block, 0, n, stop.Token).AsTask().GetAwaiter().GetResult();
                    Interlocked.Add(ref sent, n);
                }

                if (!stop.IsCancellationRequested && !datagram)
                {
                    connection.ShutdownSend();
                }

                inputDone.TrySetResult(null);
            }
            catch (Exception ex)
            {
                inputDone.TrySetResult(ex);
            }
        })
        {
            IsBackground = true,
            Name = "SockPS stdio input",
        };

        void Write(byte[] buffer, int offset, int count)
        {
            try
            {
                output.Write(buffer, offset, count);
                output.Flush();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                outputClosed = true;
                stop.Cancel();
                throw new OperationCanceledException(stop.Token);
            }

            Interlocked.Add(ref received, count);
        }

        async Task ReceiveAsync()
        {
            if (!connection.IsDatagram && !connection.IsWebSocket)
            {
                await connection.ReceiveToEndAsync(Write, TimeSpan.Zero, stop.Token).ConfigureAwait(false);
                return;
            }

            while (await connection.ReceiveDatagramAsync(TimeSpan.Zero, stop.Token).ConfigureAwait(false) is SocketDatagram message)
            {
                Write(message.Data, 0, message.Data.Length);
                if (Volatile.Read(ref lingering))
                {
                    stop.CancelAfter(DatagramLinger);
                }
            }
        }

        reader.Start();
        Task receiving = ReceiveAsync();
        if (await Task.WhenAny(receiving, inputDone.Task).ConfigureAwait(false) == inputDone.Task)
        {
            if (inputDone.Task.Result is not null)
            {
                // The send side broke (a reset, a closed socket): the receive says why, or stops.
                stop.CancelAfter(DatagramLinger);
            }
            else if (datagram)
            {
                Volatile.Write(ref lingering, true);
                stop.CancelAfter(DatagramLinger);
            }
        }

        bool peerEnded = false;
        try
        {
            await receiving.ConfigureAwait(false);
            peerEnded = true;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Ended here: the datagram socket's linger, a send failure, the output gone.
        }
        finally
        {
            stop.Cancel();
        }

        Exception? inputFailure = inputDone.Task.IsCompleted ? inputDone.Task.Result : null;
        bool inputEnded = inputDone.Task.IsCompleted && inputFailure is null;
        if (inputFailure is not null && !peerEnded && !outputClosed)
        {
            throw inputFailure as SocketOperationException
                ?? new SocketOperationException(SocketFailureKind.Unknown, $"Reading the input failed: {inputFailure.Message}", connection.PeerText, inputFailure);
        }

        return new StdioBridgeResult(Interlocked.Read(ref sent), Interlocked.Read(ref received), inputEnded, peerEnded, outputClosed);
    }
}
