using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Connections, servers and relays that come back through serialization (Start-Job, Invoke-Command,
/// Import-Clixml, PSSerializer) arrive as property bags typed Deserialized.SockPS.Core.*. A
/// socket belongs to the process that made it, so such an object cannot be used as it is:
/// <list type="bullet">
/// <item>one made by this process (its ProcessInstanceId is <see cref="SocketOrigin.InstanceId"/>)
/// is resolved to the live object, found by Id and checked by InstanceId;</item>
/// <item>one made elsewhere, or one of this process that is closed, becomes a stand-in: an
/// uninitialized object of the parameter's type that only <see cref="Live{T}"/> looks at, which
/// writes ConnectionInOtherProcess (or ConnectionNotFound) for it. A stand-in rather than an
/// exception, because a transformation that throws while the pipeline binds is reported as a
/// binding error (or AmbiguousParameterSet), never as the error the user needs.</item>
/// </list>
/// </summary>
internal static class DeserializedTargets
{
    private const string Prefix = "Deserialized.";

    private static readonly ConditionalWeakTable<object, Unusable> s_standIns = new();

    /// <summary>What a stand-in stands for: the error to write in its place.</summary>
    private sealed class Unusable
    {
        public Unusable(ErrorRecord error) => Error = error;

        public ErrorRecord Error { get; }
    }

    /// <summary>Transforms one argument (an item or a collection) for a parameter of type T[];
    /// <paramref name="inputData"/> comes back unchanged when it holds nothing deserialized.</summary>
    public static object Transform<T>(object inputData, string noun, Func<int, T?> byId, Func<T, Guid> instanceIdOf)
        where T : class
    {
        if (TryResolve(inputData, noun, byId, instanceIdOf, out T? single))
        {
            return new[] { single! };
        }

        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is T one)
        {
            // Handed over as the parameter's own type, the value is bound as it is. A lone object
            // would otherwise go through PowerShell's collection encoding, which converts it
            // element by element with tracing: about 10 us of every `Send-SocketData -Connection
            // $c` call on the 2-core CI machine (27-31 us a call before, 16-20 us after).
            return new[] { one };
        }

        if (value is IEnumerable items and not string and not T[])
        {
            List<object> converted = new();
            bool changed = false;
            bool allOfType = true;
            foreach (object? item in items)
            {
                if (item is not null && TryResolve(item, noun, byId, instanceIdOf, out T? resolved))
                {
                    converted.Add(resolved!);
                    changed = true;
                }
                else
                {
                    converted.Add(item!);
                    allOfType &= (item is PSObject p ? p.BaseObject : item) is T;
                }
            }

            if (allOfType && converted.Count > 0)
            {
                // Every element a T (`-Connection $a, $b` is an object[]): typed, for the
                // same reason as a lone one.
                T[] typed = new T[converted.Count];
                for (int i = 0; i < typed.Length; i++)
                {
                    typed[i] = (T)(converted[i] is PSObject p ? p.BaseObject : converted[i]);
                }

                return typed;
            }

            if (changed)
            {
                return converted.ToArray();
            }
        }

        return inputData;
    }

    /// <summary>The live objects among <paramref name="items"/>; writes the error of each stand-in.</summary>
    public static IReadOnlyList<T> Live<T>(Cmdlet cmdlet, IReadOnlyList<T>? items)
        where T : class
    {
        if (items is null)
        {
            return Array.Empty<T>();
        }

        List<T>? live = null;
        for (int i = 0; i < items.Count; i++)
        {
            T item = items[i];
            if (s_standIns.TryGetValue(item, out Unusable? unusable))
            {
                if (live is null)
                {
                    live = new List<T>(items.Count);
                    for (int j = 0; j < i; j++)
                    {
                        live.Add(items[j]);
                    }
                }

                cmdlet.WriteError(unusable.Error);
            }
            else
            {
                live?.Add(item);
            }
        }

        return live ?? items;
    }

    /// <summary>True when <paramref name="item"/> is a deserialized T: <paramref name="resolved"/>
    /// is then the live object or a stand-in.</summary>
    private static bool TryResolve<T>(object item, string noun, Func<int, T?> byId, Func<T, Guid> instanceIdOf, out T? resolved)
        where T : class
    {
        resolved = null;
        if (item is not PSObject pso || pso.BaseObject is T || !pso.TypeNames.Contains(Prefix + typeof(T).FullName))
        {
            return false;
        }

        int? id = Read<int?>(pso, "Id");
        string? name = Read<string>(pso, "Name");
        Guid? instanceId = Read<Guid?>(pso, "InstanceId");
        Guid? processInstanceId = Read<Guid?>(pso, "ProcessInstanceId");
        string? machine = Read<string>(pso, "MachineName");
        int? processId = Read<int?>(pso, "ProcessId");
        string what = $"{noun} {id?.ToString() ?? "?"}{(name is null ? string.Empty : $" ({name})")}";
        string Noun = char.ToUpperInvariant(noun[0]) + noun.Substring(1);
        string list = $"Get-Socket{Noun}";

        if (processInstanceId == SocketOrigin.InstanceId)
        {
            T? live = id is int known ? byId(known) : null;
            if (live is not null && (instanceId is null || instanceIdOf(live) == instanceId))
            {
                resolved = live;
                return true;
            }

            resolved = StandIn<T>(ErrorRecords.NotFound(
                $"The {what} was made by this process, but it is no longer open (it was closed or stopped since it was serialized). List the live ones with {list}.",
                $"{Noun}NotFound", pso));
            return true;
        }

        string where = machine is null
            ? "another process"
            : $"another process ({(processId is null ? "pwsh" : $"process {processId}")} on {machine})";
        string byIdHint = id is null ? $"-Name {name}" : $"-Id {id}";
        resolved = StandIn<T>(ErrorRecords.NotFound(
            $"The {what} lives in {where}: it came back through serialization (Start-Job, Invoke-Command, Import-Clixml) as a copy of its properties, and a socket can only be used by the process that made it. " +
            $"Run the command where the {noun} lives (Invoke-Command -Session $session {{ ... }} with the session that made it, or inside the job's script block) and name it there with {byIdHint}.",
            $"{Noun}InOtherProcess", pso));
        return true;
    }

    private static T StandIn<T>(ErrorRecord error)
        where T : class
    {
#if NET8_0_OR_GREATER
        T standIn = (T)RuntimeHelpers.GetUninitializedObject(typeof(T));
#else
        T standIn = (T)System.Runtime.Serialization.FormatterServices.GetUninitializedObject(typeof(T));
#endif
        s_standIns.Add(standIn, new Unusable(error));
        return standIn;
    }

    private static TValue? Read<TValue>(PSObject pso, string name)
    {
        object? value = pso.Properties[name]?.Value;
        if (value is null)
        {
            return default;
        }

        try
        {
            return LanguagePrimitives.ConvertTo<TValue>(value);
        }
        catch (PSInvalidCastException)
        {
            return default;
        }
    }
}
