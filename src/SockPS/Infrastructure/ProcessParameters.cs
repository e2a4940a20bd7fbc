using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>-FilePath, -ArgumentList, -WorkingDirectory, -MergeStandardError and -Environment,
/// as Start-SocketServer and Start-SocketProcess take them: the program found now (on PATH, or
/// from the current location), so a typo fails the command rather than every client.</summary>
internal static class ProcessParameters
{
    public static SocketProcessOptions Build(PSCmdlet cmdlet, string filePath, object[]? argumentList, string? workingDirectory,
        bool mergeStandardError, IDictionary? environment)
    {
        string current = cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        string program = ProcessBridge.FindProgram(filePath, current);

        string directory = workingDirectory is null ? current : TlsParameters.Resolve(cmdlet, workingDirectory);
        if (!Directory.Exists(directory))
        {
            throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                $"The working directory '{directory}' does not exist. Give a folder that does, or leave out -WorkingDirectory to use the current location.", directory);
        }

        List<string> arguments = new();
        if (argumentList is not null)
        {
            foreach (object? argument in argumentList)
            {
                if (argument is null)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        "-ArgumentList holds a $null: every argument of the program must be a value (use '' for an empty argument).");
                }

                arguments.Add(LanguagePrimitives.ConvertTo<string>(argument));
            }
        }

        Dictionary<string, string?>? variables = null;
        if (environment is not null)
        {
            variables = new Dictionary<string, string?>();
            foreach (DictionaryEntry entry in environment)
            {
                string name = LanguagePrimitives.ConvertTo<string>(entry.Key);
                if (string.IsNullOrEmpty(name) || name.IndexOf('=') >= 0)
                {
                    throw new SocketOperationException(SocketFailureKind.InvalidArgument,
                        $"-Environment has the variable name '{name}': a name must be non-empty and have no '='.");
                }

                variables[name] = entry.Value is null ? null : LanguagePrimitives.ConvertTo<string>(entry.Value);
            }
        }

        return new SocketProcessOptions(program)
        {
            ArgumentList = arguments,
            WorkingDirectory = directory,
            MergeStandardError = mergeStandardError,
            Environment = variables,
        };
    }
}
