using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Lets a UDP (or Unix datagram) server, or a datagram received on a socket, stand for its socket
/// wherever -Connection is expected, from the command line and from the pipeline. The transformation runs before PowerShell tries
/// to bind the server's Id and Name by property name, which would otherwise make the parameter
/// set ambiguous. A deserialized connection (Deserialized.SockPS.Core.SocketConnection, from a job or
/// a remote session) is resolved by <see cref="DeserializedTargets"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ConnectionArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        // A connection that came back through serialization: the live one, or a stand-in that
        // reports ConnectionInOtherProcess (a datagram's or pattern match's Connection too).
        inputData = DeserializedTargets.Transform<SocketConnection>(inputData, "connection", SocketRegistry.GetConnection, c => c.InstanceId);
        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case SocketDatagram { Connection: { } socket } datagram:
                // A received datagram stands for the socket it arrived on, and remembers its
                // sender: Send-SocketData replies there (see DatagramReplies).
                return DatagramReplies.Stand(socket, datagram.RemoteEndPoint);
            case SocketServer server:
                return new[] { AsConnection(server) };
            case IEnumerable items when value is not SocketConnection[] and not string:
                List<object> converted = new();
                bool changed = false;
                foreach (object? item in items)
                {
                    object? element = item is PSObject p ? p.BaseObject : item;
                    if (element is SocketServer s)
                    {
                        converted.Add(AsConnection(s));
                        changed = true;
                    }
                    else
                    {
                        converted.Add(item!);
                    }
                }

                return changed ? converted.ToArray() : inputData;
            default:
                return inputData;
        }
    }

    /// <summary>A datagram server's socket; for a stream server, which has no data of its own, an
    /// error that says where its data is.</summary>
    private static SocketConnection AsConnection(SocketServer server)
    {
        try
        {
            return server;
        }
        catch (InvalidCastException ex)
        {
            throw new ArgumentTransformationMetadataException(
                ex.Message + " " + ErrorAdvice.For(SocketFailureKind.InvalidArgument, SocketSetting.AcceptedConnections), ex);
        }
    }
}

/// <summary>
/// Where a reply to a datagram goes. When a received SocketDatagram binds to -Connection (piped:
/// <c>$datagram | Send-SocketData -InputObject 'pong'</c>), the transformation hands over a new
/// one-element array holding its socket, and this table keys the sender's address on that array:
/// the binding that produced it, and no other, finds it. An entry goes with its array.
/// </summary>
/// <remarks>Before this, -RemoteEndPoint was bound by property name from every piped object, and
/// PowerShell's look-up of that property on each item was the largest part of a piped send's
/// cost (about 1.3 us of 5 us per datagram).</remarks>
internal static class DatagramReplies
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SocketConnection[], Sender> s_senders = new();

    /// <summary>The socket as a -Connection value that remembers <paramref name="sender"/>.</summary>
    public static SocketConnection[] Stand(SocketConnection socket, System.Net.EndPoint? sender)
    {
        SocketConnection[] connection = { socket };
        s_senders.Add(connection, new Sender(sender));
        return connection;
    }

    /// <summary>True when <paramref name="connection"/> came from a datagram; <paramref name="sender"/>
    /// is then its sender (null for an unnamed Unix socket, which cannot be replied to).</summary>
    public static bool TryGetSender(SocketConnection[]? connection, out System.Net.EndPoint? sender)
    {
        sender = null;
        if (connection is not null && s_senders.TryGetValue(connection, out Sender? known))
        {
            sender = known.EndPoint;
            return true;
        }

        return false;
    }

    private sealed class Sender
    {
        public Sender(System.Net.EndPoint? endPoint) => EndPoint = endPoint;

        public System.Net.EndPoint? EndPoint { get; }
    }
}
