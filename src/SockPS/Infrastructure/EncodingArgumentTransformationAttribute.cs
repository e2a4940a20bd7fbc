using System;
using System.Management.Automation;
using System.Text;
using SockPS.Core;

namespace SockPS.Commands;

/// <summary>Lets -Encoding take a name (utf8, ascii, unicode, latin1, ...), a code page number or
/// an Encoding object, as the file cmdlets do.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class EncodingArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        try
        {
            return value switch
            {
                Encoding encoding => encoding,
                string name => TextEncodings.Get(name),
                int codePage => Encoding.GetEncoding(codePage),
                _ => inputData,
            };
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentTransformationMetadataException(ex.Message, ex);
        }
        catch (NotSupportedException ex)
        {
            throw new ArgumentTransformationMetadataException(ex.Message, ex);
        }
    }
}

/// <summary>Offers the encoding names to tab completion.</summary>
public sealed class EncodingArgumentCompleter : IArgumentCompleter
{
    /// <inheritdoc/>
    public System.Collections.Generic.IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        foreach (string name in TextEncodings.KnownNames)
        {
            if (name.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
            {
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, name);
            }
        }
    }
}
