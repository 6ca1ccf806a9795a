using Spectre.Console;

namespace ReClip.Cli;

/// <summary>Console output: Spectre tables on a terminal, plain "key: value" lines when stdout is redirected.</summary>
public static class Terminal
{
    public static bool IsInteractive => !Console.IsOutputRedirected;

    public static void KeyValueTable(IEnumerable<(string Key, string Value)> rows)
    {
        if (!IsInteractive)
        {
            foreach ((string key, string value) in rows)
                Console.WriteLine($"{key}: {value}");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("key").AddColumn("value");
        foreach ((string key, string value) in rows)
            table.AddRow(new Markup($"[bold]{Markup.Escape(key)}[/]"), new Text(value));
        AnsiConsole.Write(table);
    }

    /// <summary>A table with a header row; plain tab-separated lines when stdout is redirected.</summary>
    public static void Table(string title, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (!IsInteractive)
        {
            Console.WriteLine(title);
            Console.WriteLine(string.Join('\t', columns));
            foreach (IReadOnlyList<string> row in rows)
                Console.WriteLine(string.Join('\t', row));
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        foreach (string column in columns)
            table.AddColumn(Markup.Escape(column));
        foreach (IReadOnlyList<string> row in rows)
            table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        AnsiConsole.Write(table);
    }
}
