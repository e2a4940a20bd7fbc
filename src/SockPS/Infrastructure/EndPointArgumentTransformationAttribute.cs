using System;
using System.Management.Automation;
using System.Net;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Lets -RemoteEndPoint take "host:port", "[::1]:53", a Unix socket path or an EndPoint.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class EndPointArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        try
        {
            return value switch
            {
                EndPoint endPoint => endPoint,
                string text => EndPoints.Parse(text),
                _ => inputData,
            };
        }
        catch (SocketOperationException ex)
        {
            throw new ArgumentTransformationMetadataException(ErrorAdvice.Word(ex), ex);
        }
    }
}
