using System.Text;
using System.Text.RegularExpressions;

namespace ReClip.Tests.Support;

/// <summary>
/// A kernel launch as a launcher's source writes it: <c>….Kernel(NAME).Launch(shape, stream, new KernelArguments().Pointer(…)…)</c>,
/// or the kernel held in a variable first. <see cref="Names"/> are the kernels it may launch (the string literals of the
/// name's expression, or of the declaration in the same member of the variable it names; of a conditional, those of its
/// branches); <see cref="Sizes"/> the byte size of each
/// argument, in order (8 for Pointer and Long, 4 for Int and Float). Null <see cref="Sizes"/> or empty <see cref="Names"/>:
/// the source does not say by itself (arguments built by a helper, a name computed or templated), and <see cref="Why"/> says so.
/// </summary>
public sealed record LaunchSite(string File, int Line, IReadOnlyList<string> Names, IReadOnlyList<int>? Sizes, string? Why)
{
    public override string ToString() => $"{Path.GetFileName(File)}:{Line}";
}

/// <summary>Finds <see cref="LaunchSite"/>s in C# source text: a scanner that follows parentheses and string literals, not a parser.</summary>
public static partial class LaunchSites
{
    private const string Arguments = "new KernelArguments()";

    public static IEnumerable<LaunchSite> In(string file, string text)
    {
        Dictionary<string, IReadOnlyList<int>> helpers = Helpers(text);
        for (int at = text.IndexOf(".Launch(", StringComparison.Ordinal); at >= 0; at = text.IndexOf(".Launch(", at + 1, StringComparison.Ordinal))
        {
            int open = at + ".Launch".Length;
            int close = Matching(text, open);
            List<string> arguments = TopLevel(text[(open + 1)..close], ',');
            // A graph's or a stream's Launch, not a kernel's; nor LaunchVariants', whose lambda holds the kernel's launch.
            if (arguments.Count != 3 || text.AsSpan(0, at).EndsWith("LaunchVariants", StringComparison.Ordinal))
                continue;
            int line = text.AsSpan(0, at).Count('\n') + 1;
            IReadOnlyList<string> names = KernelNames(text, at);
            string list = arguments[2].Trim();
            // A list built into a variable first: the statement that assigned it.
            if (IsIdentifier(list) && Assignment(text, list, at) is string assigned)
                list = assigned[(assigned.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim();
            (IReadOnlyList<int>? sizes, string? why) = ArgumentSizes(list, helpers);
            if (names.Count == 0)
                why ??= "the kernel's name is computed";
            yield return new LaunchSite(file, line, names, sizes, why);
        }
    }

    /// <summary>
    /// The file's helpers that add arguments to a list, written <c>KernelArguments NAME(KernelArguments a) =&gt; a.Pointer(…)…;</c>,
    /// with the sizes each adds.
    /// </summary>
    private static Dictionary<string, IReadOnlyList<int>> Helpers(string text)
    {
        var helpers = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        foreach (Match m in HelperHeads().Matches(text))
        {
            int end = text.IndexOf(';', m.Index + m.Length);
            if (end > 0 && Chain(text[(m.Index + m.Length)..end], 0) is { Sizes: not null } chain)
                helpers[m.Groups[1].Value] = chain.Sizes;
        }
        return helpers;
    }

    /// <summary>
    /// The sizes of an argument list: <c>new KernelArguments()</c> or a helper of this file applied to a list, then a chain
    /// of Pointer, Long, Int and Float calls; null with the reason for anything else.
    /// </summary>
    private static (IReadOnlyList<int>? Sizes, string? Why) ArgumentSizes(string expression, Dictionary<string, IReadOnlyList<int>> helpers)
    {
        int at;
        var sizes = new List<int>();
        if (expression.StartsWith(Arguments, StringComparison.Ordinal))
            at = Arguments.Length;
        else
        {
            int open = expression.IndexOf('(', StringComparison.Ordinal);
            string helper = open < 0 ? "" : expression[..open].Split('.')[^1].Trim();
            if (!helpers.TryGetValue(helper, out IReadOnlyList<int>? added))
                return (null, "the arguments are built by a helper");
            int close = Matching(expression, open);
            (IReadOnlyList<int>? inner, string? why) = ArgumentSizes(expression[(open + 1)..close].Trim(), helpers);
            if (inner is null)
                return (null, why);
            sizes.AddRange(inner);
            sizes.AddRange(added);
            at = close + 1;
        }
        (IReadOnlyList<int>? chained, string? reason) = Chain(expression, at);
        if (chained is null)
            return (null, reason);
        sizes.AddRange(chained);
        return (sizes, null);
    }

    /// <summary>The sizes of the calls chained from <paramref name="at"/> to the end of <paramref name="expression"/>.</summary>
    private static (IReadOnlyList<int>? Sizes, string? Why) Chain(string expression, int at)
    {
        var sizes = new List<int>();
        while (true)
        {
            at = SkipSpace(expression, at);
            if (at == expression.Length)
                return (sizes, null);
            if (expression[at] != '.')
                return (null, "the argument chain is part of a longer expression");
            int name = at + 1, open = expression.IndexOf('(', name);
            if (open < 0)
                return (null, "the argument chain is part of a longer expression");
            switch (expression[name..open].Trim())
            {
                case "Pointer" or "Long": sizes.Add(8); break;
                case "Int" or "Float": sizes.Add(4); break;
                default: return (null, $"the chain calls {expression[name..open].Trim()}");
            }
            at = Matching(expression, open) + 1;
        }
    }

    /// <summary>The literal names the kernel launched at <paramref name="launch"/> may have; empty when the source does not say.</summary>
    private static IReadOnlyList<string> KernelNames(string text, int launch)
    {
        int before = launch - 1;
        while (before >= 0 && char.IsWhiteSpace(text[before])) before--;
        string expression;
        if (text[before] == ')')
        {
            // ….Kernel(NAME).Launch(
            int open = MatchingBackwards(text, before);
            if (!text.AsSpan(0, open).TrimEnd().EndsWith(".Kernel", StringComparison.Ordinal))
                return [];
            expression = text[(open + 1)..before];
        }
        else
        {
            // kernel.Launch( with `kernel = ….Kernel(NAME)` earlier.
            string variable = Identifier(text, before);
            string? statement = variable.Length == 0 ? null : Assignment(text, variable, launch);
            if (statement is null)
                return [];
            int call = statement.LastIndexOf(".Kernel(", StringComparison.Ordinal);
            if (call < 0)
                return [];
            int open = call + ".Kernel".Length;
            expression = statement[(open + 1)..Matching(statement, open)];
        }
        IReadOnlyList<string> names = Literals(Choices(expression));
        if (names.Count == 0 && IsIdentifier(expression.Trim()) && Assignment(text, expression.Trim(), launch) is string assigned)
            names = Literals(Choices(assigned[(assigned.IndexOf('=', StringComparison.Ordinal) + 1)..]));
        // A template's instantiation is launched by its lowered name, which the source does not spell.
        return names.Any(n => n.Contains('<') || n.Contains('{')) ? [] : names;
    }

    /// <summary>
    /// The statement that declares <paramref name="variable"/> with a value (<c>Type name = …;</c>) last before
    /// <paramref name="before"/> within the same member, or null: a parameter, a lambda's argument or a variable of another
    /// method is not the launch's.
    /// </summary>
    private static string? Assignment(string text, string variable, int before)
    {
        int member = MemberStarts().Matches(text[..before]).LastOrDefault()?.Index ?? 0;
        for (int at = text.LastIndexOf(variable, before - 1, StringComparison.Ordinal); at >= member; at = at == 0 ? -1 : text.LastIndexOf(variable, at - 1, StringComparison.Ordinal))
        {
            bool whole = (at == 0 || !IsIdentifierChar(text[at - 1])) && at + variable.Length < text.Length && !IsIdentifierChar(text[at + variable.Length]);
            string typed = text[member..at].TrimEnd();
            bool declared = typed.Length > 0 && (IsIdentifierChar(typed[^1]) || typed[^1] is '?' or '>' or ']');
            int next = SkipSpace(text, at + variable.Length);
            bool assigns = next < text.Length - 1 && text[next] == '=' && text[next + 1] is not ('=' or '>');
            int end = whole && declared && assigns ? text.IndexOf(';', next) : -1;
            if (end > 0)
                return text[(text.LastIndexOfAny([';', '{', '}'], at) + 1)..end];
        }
        return null;
    }

    /// <summary>The head of a helper that adds to an argument list and returns it: its name, then its parameter's.</summary>
    [GeneratedRegex(@"KernelArguments\s+(\w+)\(KernelArguments\s+(\w+)\)\s*=>\s*\2\b")]
    private static partial Regex HelperHeads();

    /// <summary>Where a member of a type begins: a line of four spaces' indent (file-scoped namespaces) and an access modifier.</summary>
    [GeneratedRegex(@"(?m)^    (?:public|private|internal|protected)\b")]
    private static partial Regex MemberStarts();

    /// <summary>The branches of a conditional expression (the condition's own literals are no kernel's), or the whole.</summary>
    private static string Choices(string expression)
    {
        List<string> parts = TopLevel(expression, '?');
        return parts.Count > 1 ? string.Join('?', parts.Skip(1)) : expression;
    }

    private static IReadOnlyList<string> Literals(string expression)
    {
        var names = new List<string>();
        for (int at = 0; at < expression.Length; at++)
        {
            if (expression[at] != '"') continue;
            var literal = new StringBuilder();
            bool interpolated = at > 0 && expression[at - 1] == '$';
            for (at++; at < expression.Length && expression[at] != '"'; at++)
                literal.Append(expression[at]);
            names.Add(interpolated ? "{" + literal : literal.ToString());
        }
        return names;
    }

    /// <summary>Splits at <paramref name="separator"/> outside parentheses, brackets, braces and string literals.</summary>
    private static List<string> TopLevel(string text, char separator)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int at = 0; at < text.Length; at++)
        {
            char c = text[at];
            if (c == '"') at = EndOfLiteral(text, at);
            else if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (c == separator && depth == 0)
            {
                parts.Add(text[start..at]);
                start = at + 1;
            }
        }
        parts.Add(text[start..]);
        return parts;
    }

    /// <summary>The index of the ')' that closes the '(' at <paramref name="open"/>.</summary>
    private static int Matching(string text, int open)
    {
        int depth = 0;
        for (int at = open; at < text.Length; at++)
        {
            char c = text[at];
            if (c == '"') at = EndOfLiteral(text, at);
            else if (c == '(') depth++;
            else if (c == ')' && --depth == 0) return at;
        }
        throw new FormatException($"no ')' closes the '(' at {open}");
    }

    /// <summary>The index of the '(' that the ')' at <paramref name="close"/> closes (no string literal holds a parenthesis there).</summary>
    private static int MatchingBackwards(string text, int close)
    {
        int depth = 0;
        for (int at = close; at >= 0; at--)
        {
            if (text[at] == ')') depth++;
            else if (text[at] == '(' && --depth == 0) return at;
        }
        throw new FormatException($"no '(' opens the ')' at {close}");
    }

    private static int EndOfLiteral(string text, int quote)
    {
        int at = quote + 1;
        while (at < text.Length && text[at] != '"')
            at += text[at] == '\\' ? 2 : 1;
        return at;
    }

    private static string Identifier(string text, int last)
    {
        int first = last;
        while (first > 0 && IsIdentifierChar(text[first - 1])) first--;
        return text[first..(last + 1)];
    }

    private static bool IsIdentifier(string text) => text.Length > 0 && !char.IsDigit(text[0]) && text.All(IsIdentifierChar);

    private static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static int SkipSpace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        return at;
    }
}
