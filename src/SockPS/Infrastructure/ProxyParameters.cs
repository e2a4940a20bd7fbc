using System;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>-Proxy and -ProxyCredential, as every cmdlet that connects out takes them.</summary>
internal static class ProxyParameters
{
    /// <summary>The proxy to use, or null; InvalidArgument for a URI that cannot be used and for
    /// a credential without a proxy.</summary>
    public static ProxySettings? Settings(Uri? proxy, PSCredential? credential)
    {
        if (proxy is null)
        {
            if (credential is not null)
            {
                throw new SocketOperationException(SocketFailureKind.InvalidArgument, "-ProxyCredential goes with -Proxy: give the proxy's URI too.");
            }

            return null;
        }

        if (credential is null || credential == PSCredential.Empty)
        {
            return ProxySettings.Parse(proxy);
        }

        return ProxySettings.Parse(proxy, credential.UserName, credential.GetNetworkCredential().Password);
    }
}
