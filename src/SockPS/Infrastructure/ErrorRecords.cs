using System;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>The one place where core failure kinds become error ids and categories (DESIGN.md
/// section 4). The id is stable: scripts and tests match on it.</summary>
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
            _ => ("SocketError", ErrorCategory.ConnectionError),
        };

        return new ErrorRecord(exception, id, category, target)
        {
            ErrorDetails = new ErrorDetails(exception.Message),
        };
    }

    public static ErrorRecord InvalidArgument(string message, object? target, string errorId = "InvalidArgument") =>
        new(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target);

    public static ErrorRecord NotFound(string message, string errorId, object? target) =>
        new(new ItemNotFoundException(message), errorId, ErrorCategory.ObjectNotFound, target);
}
