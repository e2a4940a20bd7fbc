using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Lets a UDP (or Unix datagram) server stand for its socket wherever -Connection is expected,
/// from the command line and from the pipeline. The transformation runs before PowerShell tries
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
