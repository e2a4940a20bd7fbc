using System;
using System.Management.Automation;

namespace SockPS.Commands;

/// <summary>
/// Validates a number of seconds: 0 or more, and a real number. ValidateRange(0, int.MaxValue) on
/// a double answers NaN and Infinity with "make sure the argument is of type Int32", which says
/// nothing about what was wrong.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidateSecondsAttribute : ValidateArgumentsAttribute
{
    /// <summary>The most a timeout may be: about 24.8 days, the most a CancellationTokenSource or a
    /// timer waits (int.MaxValue milliseconds).</summary>
    private const double MaxSeconds = int.MaxValue / 1000;

    /// <inheritdoc/>
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object? value = arguments is PSObject wrapped ? wrapped.BaseObject : arguments;
        if (value is null)
        {
            return;
        }

        double seconds = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0 || seconds > MaxSeconds)
        {
            throw new ValidationMetadataException(
                $"{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a number of seconds this can wait. " +
                $"Give 0 (wait forever) or a positive number up to {MaxSeconds:0} (about 24 days).");
        }
    }
}
