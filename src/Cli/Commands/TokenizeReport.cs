namespace ReClip.Cli.Commands;

/// <summary>The JSON of `reclip tokenize`: for each text, its token ids from SOT to EOT.</summary>
public sealed record TokenizeReport(IReadOnlyList<int[]> Tokens);
