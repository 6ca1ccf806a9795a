using System.IO.Compression;
using System.Text;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>Broken, truncated and hostile archives built in code: each is refused with the file and the problem named.</summary>
[TestFixture]
public sealed class TorchCheckpointMalformedTests
{
    /// <summary>The first record of a torch 1.13 legacy save: the pickled magic number 0x1950a86a20f9469cfc6c.</summary>
    private static readonly byte[] LegacyHeader = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

    private CheckpointArchiveBuilder builder = null!;

    [SetUp]
    public void CreateBuilder() => builder = new CheckpointArchiveBuilder();

    [TearDown]
    public void DisposeBuilder() => builder.Dispose();

    [Test]
    public void ReadsAHandBuiltCheckpoint()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor weight = checkpoint.Load("weight");
        Assert.That(weight.AsSpan<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void InflatesADeflatedArchive()
    {
        string path = builder.Write(CompressionLevel.Optimal,
            ("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor weight = checkpoint.Load("weight");
        Assert.That(weight.AsSpan<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void ReadsSizesAndOffsetsFromZip64Fields()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));
        CheckpointArchiveBuilder.MoveSizesToZip64Fields(path);

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor weight = checkpoint.Load("weight");
        Assert.That(weight.AsSpan<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void RefusesATruncatedArchive()
    {
        byte[] whole = File.ReadAllBytes(builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour)));
        string path = builder.WriteRaw(whole[..(whole.Length / 2)]);

        ExpectRefusal(path, "not a zip archive");
    }

    [Test]
    public void RefusesAnEmptyFile() => ExpectRefusal(builder.WriteRaw([]), "the file is empty");

    [Test]
    public void RefusesALegacyCheckpoint() => ExpectRefusal(builder.WriteRaw(LegacyHeader), "legacy (pre-1.6) torch.save file; re-save it in the zip format");

    [Test]
    public void RefusesAnArchiveWithoutDataPkl() =>
        ExpectRefusal(builder.Write(("archive/version", "3\n"u8.ToArray())), "no archive/data.pkl");

    [Test]
    public void RefusesAMissingStorageEntry()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle(key: "7")), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        WeightFileException error = ExpectRefusal(path, "has no archive/data/7 entry");
        Assert.That(error.TensorName, Is.EqualTo("weight"));
    }

    [Test]
    public void RefusesAnOffsetBeyondTheStorage()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle(offset: 2)), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        WeightFileException error = ExpectRefusal(path, "reach element 6 of a 4-element storage '0'");
        Assert.That(error.TensorName, Is.EqualTo("weight"));
    }

    [Test]
    public void RefusesAStorageLargerThanItsEntry()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle(numel: 8)), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        ExpectRefusal(path, "declares 8 float32 elements (32 bytes) but its entry holds 16 bytes");
    }

    [Test]
    public void LeavesOutAnUnloadableElementTypeAndNamesItOnLoad()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark().String("weight")
            .FloatTensor("0", 8, 0, [2, 2], [2, 1], storageClass: "ShortStorage").SetItems().Stop().ToArray();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(checkpoint.Entries, Is.Empty);
            Assert.That(checkpoint.Contains("weight"), Is.True);
            Assert.That(() => checkpoint.Load("weight").Dispose(),
                Throws.TypeOf<WeightFileException>().With.Message.Contain("element type torch.int16 cannot be loaded"));
        });
    }

    [TestCase((byte)0xff, "unknown opcode (0xff)")]
    [TestCase((byte)'0', "opcode Pop (0x30) is not supported")]
    [TestCase((byte)'i', "opcode Inst (0x69) is not supported")]
    public void RefusesAnUnsupportedOpcodeWithItsOffset(byte opcode, string named)
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Op(opcode).Stop().ToArray();

        ExpectRefusal(builder.Write(("archive/data.pkl", pickle)), $"archive/data.pkl, byte 3: {named}");
    }

    [Test]
    public void RefusesAPickleWithoutStop() =>
        ExpectRefusal(builder.Write(("archive/data.pkl", new PickleAssembler().Proto().EmptyDict().ToArray())), "ends without a STOP opcode");

    [Test]
    public void RefusesAStringLongerThanThePickle()
    {
        byte[] pickle = new PickleAssembler().Proto().Op((byte)'X').Raw(0xff, 0xff, 0xff, 0x7f).Stop().ToArray();

        ExpectRefusal(builder.Write(("archive/data.pkl", pickle)), "a 2147483647-byte string runs past the end of the pickle");
    }

    [Test]
    public void RefusesMarksNestedTooDeep()
    {
        var pickle = new PickleAssembler().Proto();
        for (int i = 0; i <= 256; i++)
            pickle.Mark();

        ExpectRefusal(builder.Write(("archive/data.pkl", pickle.Stop().ToArray())), "MARKs nest deeper than 256");
    }

    [Test]
    public void RefusesAPopFromAnEmptyStack() =>
        ExpectRefusal(builder.Write(("archive/data.pkl", new PickleAssembler().Proto().Mark().Tuple().Op((byte)'a').Stop().ToArray())), "empty stack");

    [Test]
    public void RefusesABigEndianCheckpoint()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/byteorder", "big"u8.ToArray()),
            ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        ExpectRefusal(path, "byte order 'big'; only little-endian");
    }

    [TestCase("archive/../../etc/passwd")]
    [TestCase("/etc/passwd")]
    [TestCase("archive\\data.pkl")]
    [TestCase("archive/./data.pkl")]
    public void RefusesAnEntryNameThatLeavesTheArchive(string name) =>
        ExpectRefusal(builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), (name, [1])), "is not a plain relative path");

    [Test]
    public void RefusesADeclaredSizeDeflateCannotProduce()
    {
        string path = builder.Write(CompressionLevel.Optimal, ("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()),
            ("archive/data/0", new byte[4096]));
        CheckpointArchiveBuilder.DeclareUncompressedSize(path, "archive/data/0", 0xFFFFFFF0);

        ExpectRefusal(path, "more than deflate can produce (zip bomb?)");
    }

    [Test]
    public void StopsInflatingAtTheDeclaredSize()
    {
        string path = builder.Write(CompressionLevel.Optimal,
            ("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", [.. CheckpointArchiveBuilder.OneToFour, .. new byte[4096]]));
        CheckpointArchiveBuilder.DeclareUncompressedSize(path, "archive/data/0", 16);

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        var error = Assert.Throws<WeightFileException>(() => checkpoint.Load("weight").Dispose());
        Assert.That(error.Message, Does.Contain("inflates beyond the 16 bytes it declares"));
    }

    /// <summary>Regression: a flipped bit in a stored weight loaded as a silently different value.</summary>
    [Test]
    public void RefusesAStoredWeightWithAFlippedBit()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));
        CheckpointArchiveBuilder.FlipBitIn(path, CheckpointArchiveBuilder.OneToFour, byteIndex: 6);

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        ExpectCorruptEntry(path, "archive/data/0", () => checkpoint.Load("weight").Dispose());
    }

    [Test]
    public void RefusesAnInflatedWeightThatDoesNotMatchItsCrc()
    {
        string path = builder.Write(CompressionLevel.Optimal,
            ("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));
        CheckpointArchiveBuilder.DeclareCrc32(path, "archive/data/0", 0x12345678);

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        ExpectCorruptEntry(path, "archive/data/0", () => checkpoint.Load("weight").Dispose());
    }

    [Test]
    public void RefusesAPickleThatDoesNotMatchItsCrc()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));
        CheckpointArchiveBuilder.DeclareCrc32(path, "archive/data.pkl", 0xdeadbeef);

        ExpectCorruptEntry(path, "archive/data.pkl", () => TorchCheckpoint.Open(path).Dispose());
    }

    /// <summary>PyTorch saves without checksums when told to (<c>set_crc32_options(False)</c>): CRC fields of 0 are none, and the archive loads.</summary>
    [Test]
    public void LoadsAnArchiveSavedWithoutChecksums()
    {
        string path = builder.Write(("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));
        CheckpointArchiveBuilder.DeclareCrc32(path, "archive/data.pkl", 0);
        CheckpointArchiveBuilder.DeclareCrc32(path, "archive/data/0", 0);

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor weight = checkpoint.Load("weight");
        Assert.That(weight.AsSpan<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    /// <summary>Two tensors viewing one stored storage (whose CRC-32 is checked at the first) both load.</summary>
    [Test]
    public void LoadsTwoViewsOfOneCheckedStorage()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark()
            .String("first").FloatTensor("0", 4, 0, [2], [1])
            .String("second").FloatTensor("0", 4, 2, [2], [1]).SetItems().Stop().ToArray();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor first = checkpoint.Load("first"), second = checkpoint.Load("second");
        Assert.That(first.AsSpan<float>().ToArray().Concat(second.AsSpan<float>().ToArray()), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void RefusesAFileThatIsNeitherZipNorPickle() =>
        ExpectRefusal(builder.WriteRaw(Encoding.ASCII.GetBytes("just some text, long enough to hold an end record")), "not a zip archive");

    /// <summary>Regression: stride-0 dimensions kept the extent inside the storage while the element count overflowed, and `reclip info` died of an OverflowException (exit 2).</summary>
    [Test]
    public void RefusesAShapeWhoseElementCountOverflows()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark().String("weight")
            .FloatTensor("0", 4, 0, [int.MaxValue, int.MaxValue, int.MaxValue], [0, 0, 0]).SetItems().Stop().ToArray();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        ExpectRefusal(path, "overflow 64-bit arithmetic");
    }

    /// <summary>Regression: four stored floats viewed with stride 0 as 65536×65536 opened fine and made Load allocate 16 GiB.</summary>
    [Test]
    public void RefusesAStrideZeroViewThatExpandsPastTheLimit()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark().String("weight")
            .FloatTensor("0", 4, 0, [65536, 65536], [0, 0]).SetItems().Stop().ToArray();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        ExpectRefusal(path, "over the 67108864-byte limit for expanded views");
    }

    /// <summary>A small broadcast buffer (position ids saved as an expanded view) stays loadable.</summary>
    [Test]
    public void LoadsASmallStrideZeroView()
    {
        byte[] pickle = new PickleAssembler().Proto().EmptyDict().Mark().String("weight")
            .FloatTensor("0", 4, 0, [3, 4], [0, 1]).SetItems().Stop().ToArray();
        string path = builder.Write(("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor weight = checkpoint.Load("weight");
        Assert.That(weight.AsSpan<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4 }));
    }

    private static void ExpectCorruptEntry(string path, string entry, Action load)
    {
        var error = Assert.Throws<WeightFileException>(load);
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.StartWith(path));
            Assert.That(error.Message, Does.Contain($"zip: entry '{entry}' fails its CRC-32 check"));
            Assert.That(error.Message, Does.EndWith("the file is corrupt"));
        });
    }

    private static WeightFileException ExpectRefusal(string path, string problem)
    {
        var error = Assert.Throws<WeightFileException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(path));
            Assert.That(error.Message, Does.StartWith(path));
            Assert.That(error.Message, Does.Contain(problem));
        });
        return error;
    }
}
