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
}
