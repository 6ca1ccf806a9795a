using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>The restricted interpreter on hand-assembled pickles: the values each opcode builds and the bounds it keeps.</summary>
[TestFixture]
public sealed class PickleMachineTests
{
    private const string Path = "test.pt";

    [Test]
    public void BuildsPlainValuesAndSharesMemoizedOnes()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("numbers").Op((byte)']').Op((byte)'q').Raw(1).Mark()
            .Int(7).Int(300).Int(-5).Int(long.MinValue).Op((byte)'G').Raw(0x3f, 0xf8, 0, 0, 0, 0, 0, 0)
            .Op((byte)'N').Op(0x88).False().Op(0x86).Op((byte)'e')
            .String("again").Op((byte)'h').Raw(1)
            .String("bytes").Op((byte)'C').Raw(2, 0xab, 0xcd)
            .SetItems().Stop().ToArray();

        var root = (PickleDict)Run(pickle)!;
        var numbers = (List<object?>)root.GetValueOrDefault("numbers")!;
        Assert.Multiple(() =>
        {
            Assert.That(numbers, Is.EqualTo(new object?[] { 7L, 300L, -5L, long.MinValue, 1.5, null, new object[] { true, false } }));
            Assert.That(root.GetValueOrDefault("again"), Is.SameAs(numbers));
            Assert.That(root.GetValueOrDefault("bytes"), Is.EqualTo(new byte[] { 0xab, 0xcd }));
        });
    }

    [Test]
    public void ReadsProtocolFourFramesMemoizeAndShortStrings()
    {
        byte[] body = new PickleAssembler().EmptyDict().Op(0x94).Op(0x8c).Raw(1, (byte)'k').Op(0x94)
            .Op(0x8a).Raw(2, 0x00, 0x80).Op((byte)'s').Op((byte)'h').Raw(1).Op((byte)'h').Raw(1).Op(0x87).Stop().ToArray();
        byte[] pickle = new PickleAssembler().Proto(4).Op(0x95).Raw(BitConverter.GetBytes((long)body.Length)).Raw(body).ToArray();

        var tuple = (object?[])Run(pickle)!;
        Assert.That(tuple, Has.Length.EqualTo(3));
        Assert.Multiple(() =>
        {
            Assert.That(((PickleDict)tuple[0]!).GetValueOrDefault("k"), Is.EqualTo(-32768L));
            Assert.That(tuple[1], Is.EqualTo("k"));
            Assert.That(tuple[2], Is.EqualTo("k"));
        });
    }

    [Test]
    public void SetItemKeepsTheFirstPositionOfARepeatedKey()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("a").Int(1).String("b").Int(2).String("a").Int(3).SetItems().Stop().ToArray();

        var root = (PickleDict)Run(pickle)!;
        Assert.That(root.Items.Select(i => (i.Key, i.Value)), Is.EqualTo(new[] { ((object?)"a", (object?)3L), ("b", 2L) }));
    }

    [Test]
    public void BuildFillsATorchScriptAttributeBag()
    {
        byte[] pickle = new PickleAssembler().Proto().Global("__torch__.torch.nn.modules.linear", "Linear").EmptyTuple().Op(0x81)
            .EmptyDict().Mark().String("training").Op(0x88).String("in_features").Int(4).SetItems().Op((byte)'b').Stop().ToArray();

        var bag = (PickleObject)Run(pickle, torchScript: true)!;
        Assert.Multiple(() =>
        {
            Assert.That(bag.Type.ToString(), Is.EqualTo("__torch__.torch.nn.modules.linear.Linear"));
            Assert.That(bag.Attributes.GetValueOrDefault("in_features"), Is.EqualTo(4L));
        });
    }

    [Test]
    public void RefusesAnIntegerWiderThan64Bits()
    {
        byte[] pickle = new PickleAssembler().Proto().Op(0x8a).Raw(9, 1, 2, 3, 4, 5, 6, 7, 8, 9).Stop().ToArray();

        Assert.That(() => Run(pickle), Throws.TypeOf<WeightFileException>().With.Message.Contains("byte 2: a 9-byte integer is wider than 64 bits"));
    }

    [Test]
    public void RefusesAStackBeyondItsBound()
    {
        var pickle = new PickleAssembler().Proto();
        pickle.Raw(Enumerable.Repeat((byte)'N', PickleMachine.MaxStackDepth + 1).ToArray());

        Assert.That(() => Run(pickle.Stop().ToArray()), Throws.TypeOf<WeightFileException>().With.Message.Contains($"the stack grows beyond {PickleMachine.MaxStackDepth} values"));
    }

    [Test]
    public void RefusesAMemoBeyondItsBound()
    {
        var pickle = new PickleAssembler().Proto().Op((byte)'N');
        for (int i = 0; i <= PickleMachine.MaxMemoEntries; i++)
            pickle.Op((byte)'r').Raw(BitConverter.GetBytes(i));

        Assert.That(() => Run(pickle.Stop().ToArray()), Throws.TypeOf<WeightFileException>().With.Message.Contains($"the memo grows beyond {PickleMachine.MaxMemoEntries} entries"));
    }

    [Test]
    public void RefusesARecallOfAnUnstoredMemoEntry() =>
        Assert.That(() => Run(new PickleAssembler().Proto().Op((byte)'h').Raw(3).Stop().ToArray()),
            Throws.TypeOf<WeightFileException>().With.Message.Contains("memo entry 3 was never stored"));

    [Test]
    public void RefusesInvalidUtf8() =>
        Assert.That(() => Run(new PickleAssembler().Proto().Op(0x8c).Raw(1, 0xff).Stop().ToArray()),
            Throws.TypeOf<WeightFileException>().With.Message.Contains("not valid UTF-8"));

    [Test]
    public void RefusesAGlobalNameThatIsNotAnIdentifier() =>
        Assert.That(() => Run(new PickleAssembler().Proto().Global("os system", "x").Stop().ToArray()),
            Throws.TypeOf<WeightFileException>().With.Message.Contains("'os system' is not a valid global name"));

    [Test]
    public void RefusesValuesLeftBehindAtStop() =>
        Assert.That(() => Run(new PickleAssembler().Proto().Op((byte)'N').Op((byte)'N').Stop().ToArray()),
            Throws.TypeOf<WeightFileException>().With.Message.Contains("STOP leaves 1 values and 0 marks behind"));

    private static object? Run(byte[] pickle, bool torchScript = false) =>
        PickleMachine.Run(pickle, new TorchPickleResolver(torchScript), Path, "data.pkl");
}
