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

    /// <summary>A library that loads but lacks a function the bindings call is named by what it is, not by the bindings' own name for it.</summary>
    [Test]
    public void AFunctionMissingFromACudaLibraryNamesTheLibrary()
    {
        var missing = new EntryPointNotFoundException("Unable to find an entry point named 'cuFuncGetParamInfo' in shared library 'reclip-cuda'.");
        string line = Failure.OneLine(missing);
        Assert.Multiple(() =>
        {
            Assert.That(line, Does.Contain("has no cuFuncGetParamInfo: this CUDA driver is older than the calls of this build").And.Not.Contain("reclip-cuda"));
            Assert.That(line, Does.Contain(ReClip.Runtime.Cuda.NativeLibraries.Driver.Path ?? "CUDA driver"));
            Assert.That(Failure.ExitCodeOf(missing), Is.EqualTo(ExitCode.RuntimeFailure));
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
