using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>Naming tensors by their path through dicts and module bags, and the bounds of that walk on crafted object graphs.</summary>
[TestFixture]
public sealed class TorchStateDictWalkerTests
{
    private CheckpointArchiveBuilder builder = null!;

    [SetUp]
    public void CreateBuilder() => builder = new CheckpointArchiveBuilder();

    [TearDown]
    public void DisposeBuilder() => builder.Dispose();

    [Test]
    public void NamesNestedDictsWithDotsAndDropsASharedModulePrefix()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("module").EmptyDict().Mark().String("visual").EmptyDict().Mark()
            .String("proj").FloatTensor("0", 4, 0, [2, 2], [2, 1])
            .SetItems().SetItems().SetItems().Stop().ToArray();

        using TorchCheckpoint checkpoint = Open(pickle);
        Assert.That(checkpoint.Entries.Select(e => e.Name), Is.EqualTo(new[] { "visual.proj" }));
    }

    [Test]
    public void KeepsAModulePrefixThatNotEveryNameHas()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("module.a").FloatTensor("0", 4, 0, [4], [1])
            .String("b").FloatTensor("0", 4, 0, [4], [1])
            .SetItems().Stop().ToArray();

        using TorchCheckpoint checkpoint = Open(pickle);
        Assert.That(checkpoint.Entries.Select(e => e.Name), Is.EqualTo(new[] { "module.a", "b" }));
    }

    [Test]
    public void RefusesTwoTensorsWithOneName()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("a.b").FloatTensor("0", 4, 0, [4], [1])
            .String("a").EmptyDict().String("b").FloatTensor("0", 4, 0, [4], [1]).Op((byte)'s')
            .SetItems().Stop().ToArray();

        var error = Assert.Throws<WeightFileException>(() => Open(pickle).Dispose());
        Assert.That(error.TensorName, Is.EqualTo("a.b"));
    }

    [Test]
    public void RefusesADictThatContainsItself()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Op((byte)'q').Raw(0)
            .String("self").Op((byte)'h').Raw(0).Op((byte)'s').Stop().ToArray();

        Assert.That(() => Open(pickle), Throws.TypeOf<WeightFileException>().With.Message.Contains($"nest deeper than {TorchStateDictWalker.MaxDepth} levels"));
    }

    [Test]
    public void BoundsAWalkThatSharedChildrenMakeExponential()
    {
        var pickle = new PickleAssembler().Proto().EmptyDict().String("level0").EmptyDict().Op((byte)'q').Raw(0).Op((byte)'s');
        for (byte level = 1; level <= 40; level++)
            pickle.String($"level{level}").EmptyDict().Mark()
                .String("left").Op((byte)'h').Raw((byte)(level - 1)).String("right").Op((byte)'h').Raw((byte)(level - 1))
                .SetItems().Op((byte)'q').Raw(level).Op((byte)'s');

        Assert.That(() => Open(pickle.Stop().ToArray()), Throws.TypeOf<WeightFileException>().With.Message.Contains($"more than {TorchStateDictWalker.MaxVisits} nodes"));
    }

    private TorchCheckpoint Open(byte[] pickle) =>
        TorchCheckpoint.Open(builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour)));
}
