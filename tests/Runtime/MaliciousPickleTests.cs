using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>
/// Checkpoints whose pickle would run a command are refused at the forbidden global, and the command
/// never runs: each payload would create its marker file (make_checkpoints.py --prove-payloads shows
/// that torch.load does).
/// </summary>
[TestFixture]
public sealed class MaliciousPickleTests
{
    private static IEnumerable<TestCaseData> MaliciousFiles() =>
        TorchFixtures.Index.Malicious.Select(m => new TestCaseData(m.File, m.Global, m.Marker).SetArgDisplayNames(m.File));

    [TestCaseSource(nameof(MaliciousFiles))]
    public void RefusesTheForbiddenGlobalWithoutRunningIt(string file, string forbiddenGlobal, string marker)
    {
        string path = TorchFixtures.PathOf(file);
        File.Delete(marker);

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(path));
            Assert.That(error.Message, Does.Contain($"global '{forbiddenGlobal}' is not allowed"));
            Assert.That(File.Exists(marker), Is.False, "the payload ran");
        });
    }

    [TestCase("os", "system")]
    [TestCase("builtins", "exec")]
    [TestCase("torch", "load")]
    [TestCase("torch._utils", "_rebuild_from_type_v2")]
    public void RefusesAtTheGlobalOpcodeBeforeAnyReduce(string module, string name)
    {
        byte[] pickle = new PickleAssembler().Proto().Global(module, name).String("echo").Op(0x85).Reduce().Stop().ToArray();
        using var builder = new CheckpointArchiveBuilder();
        string path = builder.Write(("archive/data.pkl", pickle));

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain($"archive/data.pkl, byte 2: global '{module}.{name}' is not allowed"));
    }

    [Test]
    public void RefusesAForbiddenStackGlobal()
    {
        byte[] pickle = new PickleAssembler().Proto(4).String("posix").String("system").Op(0x93).Stop().ToArray();
        using var builder = new CheckpointArchiveBuilder();
        string path = builder.Write(("archive/data.pkl", pickle));

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain("global 'posix.system' is not allowed"));
    }

    [Test]
    public void RefusesTorchScriptClassesOutsideATorchScriptArchive()
    {
        byte[] pickle = new PickleAssembler().Proto().Global("__torch__", "Evil").EmptyTuple().Op(0x81).Stop().ToArray();
        using var builder = new CheckpointArchiveBuilder();
        string path = builder.Write(("archive/data.pkl", pickle));

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain("'__torch__.Evil' is a TorchScript module class"));
    }

    [Test]
    public void NeverCallsATorchScriptClass()
    {
        byte[] pickle = new PickleAssembler().Proto().Global("__torch__.os", "system").String("touch x").Op(0x85).Reduce().Stop().ToArray();
        using var builder = new CheckpointArchiveBuilder();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/constants.pkl", new PickleAssembler().Proto().EmptyTuple().Stop().ToArray()));

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain("REDUCE cannot call class __torch__.os.system"));
    }

    [Test]
    public void NeverInstantiatesAnAllowedFunction()
    {
        byte[] pickle = new PickleAssembler().Proto().Global("collections", "OrderedDict").EmptyTuple().Op(0x81).Stop().ToArray();
        using var builder = new CheckpointArchiveBuilder();
        string path = builder.Write(("archive/data.pkl", pickle));

        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain("NEWOBJ cannot instantiate collections.OrderedDict"));
    }
}
