using System;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using SockPS.Commands;
using SockPS.Core;
using Xunit;

namespace SockPS.Tests;

/// <summary>The cmdlet layer words what the core leaves neutral: each setting a core failure can
/// name gets advice that names this module's parameters or cmdlets, and an ErrorRecord carries the
/// core's message followed by that advice.</summary>
[Collection("Module")]
public class ErrorAdviceTests : IDisposable
{
    private static readonly Regex NamesAParameterOrCmdlet = new(@"(?<![A-Za-z0-9\-])-[A-Z][a-z]|\b[A-Z][a-z]+-[A-Z][A-Za-z]+");

    private readonly PowerShellHost _host = new();

    public void Dispose()
    {
        _host.Run("Get-SocketConnection | Disconnect-Socket; Get-SocketServer | Stop-SocketServer");
        _host.Dispose();
    }

    [Fact]
    public void EverySettingHasAdviceThatNamesWhatToType()
    {
        foreach (SocketSetting setting in Enum.GetValues<SocketSetting>().Where(s => s != SocketSetting.None))
        {
            string[] advice = Enum.GetValues<SocketFailureKind>()
                .Select(kind => ErrorAdvice.For(kind, setting))
                .OfType<string>()
                .Distinct()
                .ToArray();
            Assert.True(advice.Length > 0, $"{setting} has no advice");
            Assert.All(advice, a => Assert.Matches(NamesAParameterOrCmdlet, a));
        }

        Assert.All(Enum.GetValues<SocketFailureKind>(), kind => Assert.Null(ErrorAdvice.For(kind, SocketSetting.None)));
    }

    [Fact]
    public void AnErrorRecordCarriesTheCoreMessageAndTheAdviceOnce()
    {
        SocketOperationException failure = new(SocketFailureKind.ReceiveTimeout, "No data arrived from 127.0.0.1:80 within 5 seconds.", "127.0.0.1:80")
        {
            Setting = SocketSetting.Timeout,
        };

        ErrorRecord record = ErrorRecords.From(failure, null);
        ErrorRecord again = ErrorRecords.From(failure, null);

        const string Expected = "No data arrived from 127.0.0.1:80 within 5 seconds. Try again, or raise -TimeoutSeconds (0 waits forever).";
        Assert.Equal(Expected, record.ErrorDetails.Message);
        Assert.Equal(Expected, record.Exception.Message);
        Assert.Equal(Expected, again.Exception.Message);
        Assert.Equal("No data arrived from 127.0.0.1:80 within 5 seconds.", failure.CoreMessage);
        Assert.Equal("ReceiveTimeout", record.FullyQualifiedErrorId);
    }

    [Fact]
    public void AFailureWithoutASettingKeepsTheCoreMessage()
    {
        SocketOperationException failure = new(SocketFailureKind.ConnectionRefused, "Connection to 127.0.0.1:9 was refused.");
        Assert.Equal("Connection to 127.0.0.1:9 was refused.", ErrorRecords.From(failure, null).ErrorDetails.Message);
        Assert.Null(failure.Advice);
    }

    [Fact]
    public void ARewordedFailureTakesTheAdviceOfTheOneItWraps()
    {
        SocketOperationException inner = new(SocketFailureKind.ReceiveTimeout, "inner.") { Setting = SocketSetting.Timeout };
        SocketOperationException outer = new(SocketFailureKind.ReceiveTimeout, "No answer from x within 1 second.", "x", inner);
        Assert.EndsWith("raise -TimeoutSeconds (0 waits forever).", ErrorRecords.From(outer, null).Exception.Message);

        SocketOperationException otherKind = new(SocketFailureKind.EndOfStream, "x closed the connection.", "x", inner);
        Assert.Equal("x closed the connection.", ErrorRecords.From(otherKind, null).Exception.Message);
    }

    [Fact]
    public void AReceiveTimeoutFromTheCmdletSaysWhatHappenedAndWhatToType()
    {
        ErrorRecord error = _host.RunTerminating(@"
            $server = Start-SocketServer
            $client = Connect-Socket -ComputerName 127.0.0.1 -Port $server.Port
            Receive-SocketData -Connection $client -Line -TimeoutSeconds 0.2 -ErrorAction Stop");

        Assert.Equal("ReceiveTimeout,SockPS.Commands.ReceiveSocketDataCommand", error.FullyQualifiedErrorId);
        Assert.Matches(@"^No data arrived from 127\.0\.0\.1:\d+ within 0\.2 seconds\. The connection is still open\. Try again, or raise -TimeoutSeconds \(0 waits forever\)\.$",
            error.Exception.Message);
        SocketOperationException failure = Assert.IsType<SocketOperationException>(error.Exception);
        Assert.Equal(SocketSetting.Timeout, failure.Setting);
        Assert.Equal(TimeSpan.FromSeconds(0.2), failure.Timeout);
        Assert.DoesNotContain("-TimeoutSeconds", failure.CoreMessage);
    }
}
