using System.Text.Json;

namespace ReClip.Runtime.IO;

/// <summary>
/// What a JSON parser error says, for one line of ours: its own sentence and where it stopped, 1-based, in place of the
/// tail " Path: $ | LineNumber: 0 | BytePositionInLine: 2." whose line number counts from 0.
/// </summary>
public static class JsonErrorText
{
    /// <summary>On the text's first line (a JSON-lines record, most headers) only the byte is given.</summary>
    public static string Of(JsonException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        string message = error.Message;
        int tail = Tail(message);
        string sentence = (tail >= 0 ? message[..tail] : message).TrimEnd().TrimEnd('.');
        if (error.BytePositionInLine is not long position)
            return sentence;
        return error.LineNumber is not long line || line == 0
            ? $"{sentence}, at byte {position + 1}"
            : $"{sentence}, at line {line + 1} byte {position + 1}";
    }

    private static int Tail(string message)
    {
        int path = message.IndexOf(" Path: ", StringComparison.Ordinal), line = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        return path < 0 ? line : line < 0 ? path : Math.Min(path, line);
    }
}
