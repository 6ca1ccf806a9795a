using System.Net;
using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// The clean-up OpenAI's tokenizer applies before splitting a text (<c>basic_clean</c>, <c>whitespace_clean</c>,
/// <c>lower</c> in <c>simple_tokenizer.py</c>), except ftfy's repair of mis-decoded text, which is not reproduced.
/// </summary>
internal static class ClipTextCleaner
{
    public static string Clean(string text)
    {
        // Twice, as OpenAI does, so that doubly escaped text ("&amp;lt;") also comes out as the character.
        string unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return PythonLowercase.ToLower(CollapseWhitespace(unescaped));
    }

    /// <summary>
    /// Each run of Unicode white space becomes one space (the <c>\s+</c> of Python's regex module); the ends are
    /// stripped of what Python's <c>str.strip()</c> removes, which also counts the separators U+001C–U+001F.
    /// </summary>
    private static string CollapseWhitespace(string text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsStrippedByPython(text[start])) start++;
        while (end > start && IsStrippedByPython(text[end - 1])) end--;
        var collapsed = new StringBuilder(end - start);
        bool inWhitespace = false;
        for (int i = start; i < end; i++)
        {
            bool whitespace = char.IsWhiteSpace(text[i]);
            if (!whitespace)
                collapsed.Append(text[i]);
            else if (!inWhitespace)
                collapsed.Append(' ');
            inWhitespace = whitespace;
        }
        return collapsed.ToString();
    }

    private static bool IsStrippedByPython(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';
}
