using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace SockPS.Commands;

/// <summary>
/// $using: for handler script blocks, the way ForEach-Object -Parallel and Start-ThreadJob do it:
/// every <c>$using:x</c> in the block is evaluated once, in the caller's session, when the server
/// starts; the values travel with each invocation and PowerShell binds them to the expressions
/// by a key made from the expression's text.
/// </summary>
internal static class UsingValues
{
    // Commands whose script block arguments have $using: of their own, meant for the handler's
    // scope, not the caller's (PowerShell skips nested ForEach-Object -Parallel the same way).
    private static readonly HashSet<string> s_ownScopeCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "Start-ThreadJob", "Start-Job", "sajb", "Invoke-Command", "icm", "Start-SocketServer",
    };

    private static readonly HashSet<string> s_forEachNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "ForEach-Object", "foreach", "%",
    };

    /// <summary>The values of the $using: expressions in <paramref name="blocks"/>, keyed as
    /// PowerShell looks them up; null when there are none. Throws a terminating-ready
    /// <see cref="UsingValueException"/> for a variable that is not defined, or a script block value
    /// (which belongs to the caller's runspace and cannot run in a handler's).</summary>
    public static Dictionary<string, object?>? Capture(PSCmdlet cmdlet, params ScriptBlock?[] blocks)
    {
        Dictionary<string, object?>? values = null;
        foreach (ScriptBlock? block in blocks)
        {
            if (block is null)
            {
                continue;
            }

            foreach (UsingExpressionAst usage in block.Ast.FindAll(ast => ast is UsingExpressionAst, searchNestedScriptBlocks: true).Cast<UsingExpressionAst>())
            {
                if (HasOwnUsingScope(usage, block.Ast))
                {
                    continue;
                }

                values ??= new Dictionary<string, object?>(StringComparer.Ordinal);
                string key = Key(usage);
                if (!values.ContainsKey(key))
                {
                    values[key] = Evaluate(cmdlet, usage);
                }
            }
        }

        return values;
    }

    /// <summary>PowerShell's key for a using expression: the expression's text (lower-cased when it
    /// is a plain variable, since variable names ignore case) as UTF-16, in Base64.</summary>
    private static string Key(UsingExpressionAst usage)
    {
        string text = usage.ToString();
        if (usage.SubExpression is VariableExpressionAst)
        {
            text = text.ToLowerInvariant();
        }

        return Convert.ToBase64String(Encoding.Unicode.GetBytes(text));
    }

    private static object? Evaluate(PSCmdlet cmdlet, UsingExpressionAst usage)
    {
        ExpressionAst expression = usage.SubExpression;
        VariableExpressionAst? variable = expression as VariableExpressionAst
            ?? expression.Find(ast => ast is VariableExpressionAst, searchNestedScriptBlocks: false) as VariableExpressionAst;
        if (variable is null || variable.Extent.StartOffset != expression.Extent.StartOffset)
        {
            throw new UsingValueException($"{usage.Extent.Text} does not start with a variable; $using: takes a variable, such as $using:name or $using:table['key'].", usage.Extent.Text);
        }

        string name = variable.VariablePath.UserPath;
        if (!variable.VariablePath.IsDriveQualified && cmdlet.SessionState.PSVariable.Get(name) is null)
        {
            throw new UsingValueException(
                $"The handler uses {usage.Extent.Text}, but there is no variable ${name} where Start-SocketServer runs. $using: values are taken when the server starts: set the variable first.",
                usage.Extent.Text, isUndefined: true);
        }

        object? value;
        if (expression is VariableExpressionAst && !variable.VariablePath.IsDriveQualified)
        {
            value = cmdlet.SessionState.PSVariable.GetValue(name);
        }
        else
        {
            // An index, a property or a drive ($using:table['key'], $using:env:PATH): the caller's
            // own text without "using:", evaluated in the caller's session and language mode.
            string text = "$" + name + expression.Extent.Text.Substring(variable.Extent.Text.Length);
            var results = cmdlet.InvokeCommand.InvokeScript(text);
            value = results.Count switch
            {
                0 => null,
                1 => results[0],
                _ => results.ToArray(),
            };
        }

        if (value is ScriptBlock || value is PSObject { BaseObject: ScriptBlock })
        {
            throw new UsingValueException(
                $"{usage.Extent.Text} is a script block. A script block belongs to the runspace that made it and cannot run in a handler's; pass its text and make it there with [scriptblock]::Create(), or define a function in -InitializationScript.",
                usage.Extent.Text);
        }

        return value;
    }

    /// <summary>True when the expression sits in a script block handed to a command that has
    /// $using: of its own (ForEach-Object -Parallel, Start-ThreadJob, ...) inside the handler.</summary>
    private static bool HasOwnUsingScope(Ast usage, Ast root)
    {
        bool inScriptBlock = false;
        for (Ast? current = usage.Parent; current is not null && current != root; current = current.Parent)
        {
            if (current is ScriptBlockExpressionAst)
            {
                inScriptBlock = true;
            }
            else if (inScriptBlock && current is CommandAst command && StartsOwnScope(command))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsOwnScope(CommandAst command)
    {
        string? name = command.GetCommandName();
        if (name is null)
        {
            return false;
        }

        if (s_ownScopeCommands.Contains(name))
        {
            return true;
        }

        return s_forEachNames.Contains(name) && command.CommandElements.OfType<CommandParameterAst>()
            .Any(p => p.ParameterName.Length >= 2 && "Parallel".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>A $using: expression in a handler that cannot be given a value.</summary>
internal sealed class UsingValueException : Exception
{
    public UsingValueException(string message, string expression, bool isUndefined = false)
        : base(message)
    {
        Expression = expression;
        IsUndefined = isUndefined;
    }

    /// <summary>The expression as written, such as $using:name.</summary>
    public string Expression { get; }

    /// <summary>True when the variable does not exist (rather than holding something unusable).</summary>
    public bool IsUndefined { get; }
}
