using System;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>The one place where core failure kinds become error ids and categories, and where
/// their messages get this module's advice (<see cref="ErrorAdvice"/>). The id is stable: scripts
/// and tests match on it.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(SocketOperationException exception, object? target, string? errorIdForClosed = null)
    {
        (string id, ErrorCategory category) = exception.Kind switch
        {
            SocketFailureKind.ConnectionRefused => ("ConnectionRefused", ErrorCategory.ConnectionError),
            SocketFailureKind.ConnectionReset => ("ConnectionReset", ErrorCategory.ConnectionError),
            SocketFailureKind.HostNotFound => ("HostNotFound", ErrorCategory.ObjectNotFound),
            SocketFailureKind.ConnectTimeout => ("ConnectTimeout", ErrorCategory.OperationTimeout),
            SocketFailureKind.ReceiveTimeout => ("ReceiveTimeout", ErrorCategory.OperationTimeout),
            SocketFailureKind.AcceptTimeout => ("AcceptTimeout", ErrorCategory.OperationTimeout),
            SocketFailureKind.AddressInUse => ("AddressInUse", ErrorCategory.ResourceUnavailable),
            SocketFailureKind.AddressNotAvailable => ("AddressNotAvailable", ErrorCategory.InvalidArgument),
            SocketFailureKind.Unreachable => ("HostUnreachable", ErrorCategory.ConnectionError),
            SocketFailureKind.AccessDenied => ("AccessDenied", ErrorCategory.PermissionDenied),
            SocketFailureKind.Closed => (errorIdForClosed ?? "ConnectionClosed", ErrorCategory.InvalidOperation),
            SocketFailureKind.EndOfStream => ("EndOfStream", ErrorCategory.ReadError),
            SocketFailureKind.InvalidArgument => ("InvalidArgument", ErrorCategory.InvalidArgument),
            SocketFailureKind.TlsAuthentication => ("TlsAuthenticationFailed", ErrorCategory.SecurityError),
            SocketFailureKind.FrameTooLong => ("FrameTooLong", ErrorCategory.LimitsExceeded),
            SocketFailureKind.DatagramTooLarge => ("DatagramTooLarge", ErrorCategory.InvalidArgument),
            SocketFailureKind.NotSupported => ("NotSupported", ErrorCategory.NotImplemented),
            SocketFailureKind.WebSocketHandshake => ("WebSocketHandshakeFailed", ErrorCategory.ProtocolError),
            SocketFailureKind.UnreadData => ("UnreadPlainText", ErrorCategory.InvalidOperation),
            SocketFailureKind.ProxyRefused => ("ProxyRefused", ErrorCategory.ConnectionError),
            SocketFailureKind.ProxyHostNotFound => ("ProxyHostNotFound", ErrorCategory.ObjectNotFound),
            SocketFailureKind.ProxyTimeout => ("ProxyTimeout", ErrorCategory.OperationTimeout),
            SocketFailureKind.ProxyAuthenticationFailed => ("ProxyAuthenticationFailed", ErrorCategory.SecurityError),
            SocketFailureKind.ProxyDenied => ("ProxyDenied", ErrorCategory.PermissionDenied),
            SocketFailureKind.ProxyTargetUnreachable => ("ProxyTargetUnreachable", ErrorCategory.ConnectionError),
            SocketFailureKind.ProxyProtocolError => ("ProxyProtocolError", ErrorCategory.ProtocolError),
            // Certificates (issue 14).
            SocketFailureKind.StartTlsRefused => ("StartTlsRefused", ErrorCategory.ProtocolError),
            // Processes on sockets (issue 15).
            SocketFailureKind.ProgramNotFound => ("ProgramNotFound", ErrorCategory.ObjectNotFound),
            SocketFailureKind.ProgramStartFailed => ("ProgramStartFailed", ErrorCategory.OpenError),
            _ => ("SocketError", ErrorCategory.ConnectionError),
        };

        return new ErrorRecord(exception, id, category, target)
        {
            ErrorDetails = new ErrorDetails(ErrorAdvice.Word(exception)),
        };
    }

    /// <summary>A failure no cmdlet expected: a bug, reported with a stable id instead of the
    /// runtime's exception text alone.</summary>
    public static ErrorRecord Unexpected(Exception exception, string command) =>
        new(exception, "UnexpectedError", ErrorCategory.InvalidOperation, null)
        {
            ErrorDetails = new ErrorDetails(
                $"{command} failed unexpectedly: {exception.Message.TrimEnd()} ({exception.GetType().Name}). " +
                "This is a SockPS bug; please report it with the command that caused it."),
        };

    public static ErrorRecord InvalidArgument(string message, object? target, string errorId = "InvalidArgument") =>
        new(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target);

    public static ErrorRecord NotFound(string message, string errorId, object? target) =>
        new(new ItemNotFoundException(message), errorId, ErrorCategory.ObjectNotFound, target);
}
