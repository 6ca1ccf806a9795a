using ReClip.Bench.Plot;

// bench/plot [RESULTS_FOLDER [FIGURES_FOLDER]]: every chart that bench/results/*.json describes, as PNG.
string root = RepositoryFolders.Root();
string results = args.Length > 0 ? args[0] : Path.Combine(root, "bench", "results");
string figures = args.Length > 1 ? args[1] : Path.Combine(root, "docs", "figures");
try
{
    foreach (string written in ResultCharts.DrawAll(results, figures))
        Console.WriteLine($"plot: wrote {Path.GetRelativePath(Environment.CurrentDirectory, written)}");
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"plot: {e.Message}");
    return 1;
}
