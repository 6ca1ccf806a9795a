using ReClip.Cli;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>
/// An invalid command line, whatever is wrong with it, exits with 1 and prints the problem and the
/// command's usage line on stderr, nothing on stdout (a script reading --json output must not get help text).
/// </summary>
[TestFixture]
public sealed class CommandLineErrorTests
{
    [TestCase("unknown device 'gpu'", "usage: reclip selfcheck [options]", "selfcheck", "--device", "gpu")]
    [TestCase("--context-length must be at least 1, not -3", "usage: reclip tokenize <TEXT>... [options]", "tokenize", "--context-length", "-3", "cat")]
    [TestCase("Cannot parse argument 'abc' for option '--context-length' as a whole number.", "usage: reclip tokenize <TEXT>... [options]", "tokenize", "--context-length", "abc", "cat")]
    [TestCase("Cannot parse argument 'x' for option '--pd' as a number.", "usage: reclip eval [options]", "eval", "--weights", "w", "--dataset", "folder", "--root", ".", "--pd", "x")]
    [TestCase("Cannot parse argument 'y' for option '--seed' as a whole number.", "usage: reclip demo [options]", "demo", "--seed", "y")]
    [TestCase("Unrecognized command or argument 'nosuch'", "usage: reclip <command> [options]", "nosuch")]
    [TestCase("--vocab and --hf-vocab name two vocabularies", "usage: reclip tokenize <TEXT>... [options]", "tokenize", "--vocab", "a", "--hf-vocab", "b", "cat")]
    public void AnInvalidCommandLineExitsWithBadInputTheErrorAndTheUsageLine(string error, string usage, params string[] arguments)
    {
        ReclipProcess.Result result = ReclipProcess.Run(arguments);
        string[] lines = result.Stderr.TrimEnd().Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
            Assert.That(result.Stdout, Is.Empty);
            Assert.That(lines[..^1], Has.Some.StartsWith("reclip: ").And.Some.Contain(error));
            Assert.That(lines[^1], Does.StartWith(usage));
        });
    }

    [Test]
    public void AChoiceListIsFoldedIntoTheErrorsLine()
    {
        ReclipProcess.Result result = ReclipProcess.Run("eval", "--weights", "w", "--dataset", "folder", "--root", ".", "--method", "foo");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput));
            Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(2), result.Stderr);
            Assert.That(result.Stderr, Does.StartWith("reclip: Argument 'foo' not recognized. Must be one of: 'reclippp' 'maskclip'\nusage: reclip eval"));
        });
    }

    /// <summary>.NET's " (Parameter 'preset')" names a variable of ours; the line keeps to what the user typed.</summary>
    [Test]
    public void AnArgumentErrorLeavesOutOurParameterNames()
    {
        ReclipProcess.Result result = ReclipProcess.Run("eval", "--weights", "none.safetensors", "--dataset", "vocx", "--root", ".", "--method", "maskclip");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput));
            Assert.That(result.Stderr, Is.EqualTo("reclip: invalid argument: unknown dataset 'vocx' (known: voc, context, ade, cityscapes, stuff, folder)\n"));
        });
    }

    [Test]
    public void AnInvalidThreadCountIsRefusedBeforeAnyCommandRuns()
    {
        ReclipProcess.Result result = ReclipProcess.Run(new Dictionary<string, string> { ["RECLIP_THREADS"] = "lots" }, "info");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput));
            Assert.That(result.Stdout, Is.Empty);
            Assert.That(result.Stderr, Is.EqualTo("reclip: invalid argument: RECLIP_THREADS: expected a whole number of threads from 1 to 1024, got 'lots'\n"));
        });
    }
}
