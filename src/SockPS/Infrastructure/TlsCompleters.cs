using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Completes -ApplicationProtocol with the ALPN names of the IANA registry that a
/// socket tool meets most.</summary>
public sealed class ApplicationProtocolCompleter : IArgumentCompleter
{
    private static readonly (string Name, string Description)[] s_protocols =
    {
        ("h2", "HTTP/2 over TLS"),
        ("http/1.1", "HTTP/1.1"),
        ("http/1.0", "HTTP/1.0"),
        ("acme-tls/1", "ACME TLS-ALPN-01 challenge"),
        ("imap", "IMAP"),
        ("pop3", "POP3"),
        ("smtp", "SMTP"),
        ("ftp", "FTP"),
        ("xmpp-client", "XMPP client-to-server"),
        ("xmpp-server", "XMPP server-to-server"),
        ("mqtt", "MQTT"),
        ("dot", "DNS over TLS"),
        ("ntske/1", "Network Time Security key establishment"),
        ("postgresql", "PostgreSQL"),
        ("irc", "IRC"),
        ("managesieve", "ManageSieve"),
    };

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return s_protocols
            .Where(p => p.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(p => new CompletionResult(p.Name.IndexOf('/') >= 0 ? "'" + p.Name + "'" : p.Name, p.Name, CompletionResultType.ParameterValue, p.Description));
    }
}

/// <summary>Completes -TlsCipherSuite with the suite names this runtime knows.</summary>
public sealed class CipherSuiteCompleter : IArgumentCompleter
{
    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        WildcardPattern pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        return TlsNegotiation.KnownCipherSuites
            .Where(name => pattern.IsMatch(name) || pattern.IsMatch(name.Replace("TLS_", string.Empty)))
            .OrderBy(name => name.StartsWith("TLS_AES", StringComparison.Ordinal) || name.StartsWith("TLS_CHACHA20", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(name => name, StringComparer.Ordinal)
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}
