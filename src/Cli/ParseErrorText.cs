using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace ReClip.Cli;

/// <summary>
/// A command-line parse error as one line in the user's terms: System.CommandLine lists choices on lines of their own
/// ("Must be one of:\n\t'a'\n\t'b'") and names .NET types ("as expected type 'System.Nullable`1[System.Single]'").
/// </summary>
public static partial class ParseErrorText
{
    public static string Of(ParseError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        string text = string.Join(' ', error.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return DotNetType().Replace(text, match =>
            (match.Groups["type"].Value is "Single" or "Double" ? " as a number" : " as a whole number") + (match.Groups["list"].Success ? " list" : ""));
    }

    [GeneratedRegex(@" as expected type 'System\.(?:Nullable`1\[System\.)?(?<type>U?Int32|U?Int64|Single|Double)\]?(?<list>\[\])?'")]
    private static partial Regex DotNetType();
}
