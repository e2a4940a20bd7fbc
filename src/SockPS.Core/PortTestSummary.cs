using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;

namespace SockPS.Core;

/// <summary>
/// The statistics of repeated checks of one port of one host (Test-SocketPort -Count -Summary),
/// as ping and tcping print them at the end: how many attempts were sent, how many found the port
/// open, the loss, and the latency of the answers.
/// </summary>
public sealed class PortTestSummary
{
    private PortTestSummary(string computerName, IPAddress? remoteAddress, int port, SocketProtocol protocol, int sent, int answered,
        double? minimum, double? average, double? maximum, double? standardDeviation, PortStatus lastStatus)
    {
        ComputerName = computerName;
        RemoteAddress = remoteAddress;
        Port = port;
        Protocol = protocol;
        Sent = sent;
        Answered = answered;
        LossPercent = sent == 0 ? 0 : Math.Round((sent - answered) * 100.0 / sent, 1);
        Minimum = minimum;
        Average = average;
        Maximum = maximum;
        StandardDeviation = standardDeviation;
        LastStatus = lastStatus;
    }

    /// <summary>The name or address as it was given.</summary>
    public string ComputerName { get; }

    /// <summary>The address of the last attempt that reached one.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>The port number.</summary>
    public int Port { get; }

    /// <summary>Tcp or Udp.</summary>
    public SocketProtocol Protocol { get; }

    /// <summary>Attempts made.</summary>
    public int Sent { get; }

    /// <summary>Attempts that found the port open (TCP: a connection was made; UDP: an answer came back).</summary>
    public int Answered { get; }

    /// <summary>The share of attempts that did not find the port open, in percent (0-100, one decimal).</summary>
    public double LossPercent { get; }

    /// <summary>The shortest latency of the answered attempts, in milliseconds; null when none answered.</summary>
    public double? Minimum { get; }

    /// <summary>The mean latency of the answered attempts, in milliseconds.</summary>
    public double? Average { get; }

    /// <summary>The longest latency of the answered attempts, in milliseconds.</summary>
    public double? Maximum { get; }

    /// <summary>The standard deviation of the answered attempts' latencies, in milliseconds
    /// (population, as ping's mdev).</summary>
    public double? StandardDeviation { get; }

    /// <summary>The status of the last attempt.</summary>
    public PortStatus LastStatus { get; }

    /// <summary>The computer that made this object (where it lives), so one that comes back
    /// from Invoke-Command or a job says where it was made.</summary>
    public string MachineName => SocketOrigin.MachineName;

    /// <summary>"db01:5432/Tcp: 4 sent, 4 answered, 0% loss".</summary>
    public override string ToString() => $"{EndPointText.Format(ComputerName, Port)}/{Protocol}: {Sent} sent, {Answered} answered, {LossPercent}% loss";

    /// <summary>The summary of the attempts of one target, in the order they were made.</summary>
    public static PortTestSummary From(IReadOnlyList<PortTestResult> attempts)
    {
        if (attempts.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one attempt.", nameof(attempts));
        }

        PortTestResult first = attempts[0];
        double[] latencies = attempts.Where(a => a.Status == PortStatus.Open && a.Latency is not null).Select(a => a.Latency!.Value.TotalMilliseconds).ToArray();
        int answered = attempts.Count(a => a.Status == PortStatus.Open);
        double? minimum = null, average = null, maximum = null, deviation = null;
        if (latencies.Length > 0)
        {
            minimum = latencies.Min();
            maximum = latencies.Max();
            double mean = latencies.Average();
            average = mean;
            deviation = Math.Sqrt(latencies.Sum(l => (l - mean) * (l - mean)) / latencies.Length);
        }

        IPAddress? address = attempts.LastOrDefault(a => a.RemoteAddress is not null)?.RemoteAddress;
        return new PortTestSummary(first.ComputerName, address, first.Port, first.Protocol, attempts.Count, answered,
            minimum, average, maximum, deviation, attempts[attempts.Count - 1].Status);
    }
}
