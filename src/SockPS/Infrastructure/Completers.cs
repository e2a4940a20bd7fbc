using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>
/// Completes -Id and -Name (and -Server, which takes a name too) from the live objects of one
/// kind. The tooltip shows the endpoints, so `Disconnect-Socket -Id &lt;Tab&gt;` tells the
/// connections apart without a Get-SocketConnection first.
/// </summary>
public abstract class LiveObjectCompleter : IArgumentCompleter
{
    /// <summary>The live objects: id, name and a one-line description for the tooltip.</summary>
    private protected abstract IEnumerable<(int Id, string Name, string Description)> Items();

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        bool byId = string.Equals(parameterName, "Id", StringComparison.OrdinalIgnoreCase);
        WildcardPattern pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        List<CompletionResult> results = new();
        foreach (var (id, name, description) in Items())
        {
            string id_ = id.ToString(CultureInfo.InvariantCulture);
            if (!pattern.IsMatch(byId ? id_ : name))
            {
                continue;
            }

            string tooltip = $"{name} (Id {id_}): {description}";
            results.Add(byId
                ? new CompletionResult(id_, $"{id_} {name}", CompletionResultType.ParameterValue, tooltip)
                : new CompletionResult(Quote(name), name, CompletionResultType.ParameterValue, tooltip));
        }

        return results;
    }

    /// <summary>Names are free text: quote the ones the parser would split or expand.</summary>
    private static string Quote(string name) =>
        name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : "'" + name.Replace("'", "''") + "'";
}

/// <summary>Completes connection ids and names.</summary>
public sealed class ConnectionCompleter : LiveObjectCompleter
{
    private protected override IEnumerable<(int Id, string Name, string Description)> Items() =>
        SocketRegistry.Connections.Select(c => (c.Id, c.Name, c.ToString()));
}

/// <summary>Completes server ids and names.</summary>
public sealed class ServerCompleter : LiveObjectCompleter
{
    private protected override IEnumerable<(int Id, string Name, string Description)> Items() =>
        SocketRegistry.Servers.Select(s => (s.Id, s.Name, s.ToString()));
}

/// <summary>Completes relay ids and names.</summary>
public sealed class RelayCompleter : LiveObjectCompleter
{
    private protected override IEnumerable<(int Id, string Name, string Description)> Items() =>
        SocketRegistry.Relays.Select(r => (r.Id, r.Name, r.ToString()));
}

/// <summary>
/// Lets -Server take a server's name or Id as well as the object, so what the completer offers
/// binds: `Wait-SocketConnection -Server web`. Names take wildcards; a name or id that matches
/// no live server fails the binding with a message that says how to list them.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ServerArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        inputData = DeserializedTargets.Transform<SocketServer>(inputData, "server", SocketRegistry.GetServer, s => s.InstanceId);
        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is string or int or long)
        {
            return Find(value).ToArray();
        }

        if (value is IEnumerable items and not SocketServer[])
        {
            List<object> converted = new();
            bool changed = false;
            foreach (object? item in items)
            {
                object? element = item is PSObject p ? p.BaseObject : item;
                if (element is string or int or long)
                {
                    converted.AddRange(Find(element!));
                    changed = true;
                }
                else
                {
                    converted.Add(item!);
                }
            }

            return changed ? converted.ToArray() : inputData;
        }

        return inputData;
    }

    private static IEnumerable<SocketServer> Find(object key)
    {
        if (key is int or long)
        {
            int id = Convert.ToInt32(key, CultureInfo.InvariantCulture);
            return new[]
            {
                SocketRegistry.GetServer(id)
                    ?? throw new ArgumentTransformationMetadataException($"No server with Id {id} exists. List the live ones with Get-SocketServer."),
            };
        }

        string name = (string)key;
        WildcardPattern pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
        SocketServer[] matches = SocketRegistry.Servers.Where(s => pattern.IsMatch(s.Name)).ToArray();
        if (matches.Length == 0 && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && SocketRegistry.GetServer(number) is SocketServer byId)
        {
            return new[] { byId };
        }

        return matches.Length > 0
            ? matches
            : throw new ArgumentTransformationMetadataException($"No server named '{name}' exists. List the live ones with Get-SocketServer.");
    }
}
