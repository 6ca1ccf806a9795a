using ReClip.Cli;
using ReClip.Model.Data;

namespace ReClip.Tests.Cli;

/// <summary>How an exception that escapes a command becomes its one line and exit code.</summary>
[TestFixture]
public sealed class FailureTests
{
    [Test]
    public void ParallelWorkIsReportedAsItsFirstFailure()
    {
        var error = new AggregateException(new AggregateException(new IOException("No space left on device : '/data/a.png'"), new IOException("b")));
        Assert.Multiple(() =>
        {
            Assert.That(Failure.OneLine(error), Is.EqualTo("error: No space left on device : '/data/a.png'"));
            Assert.That(Failure.ExitCodeOf(error), Is.EqualTo(ExitCode.RuntimeFailure));
            Assert.That(Failure.ExitCodeOf(new AggregateException(new FileNotFoundException("x: no such file"))), Is.EqualTo(ExitCode.BadInput));
        });
    }

    [Test]
    public void AFolderGivenForAnImageIsNamedAsOne()
    {
        string folder = Path.GetTempPath().TrimEnd('/');
        var error = Assert.Throws<InvalidDataException>(() => PngFiles.ReadRgb(folder));
        Assert.That(Failure.OneLine(error!), Is.EqualTo($"error: {folder} is a folder, not a file"));
    }
}
