using System.Buffers.Binary;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed unsafe class SafetensorsTests
{
    private string folder = "";
    private string path = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-safetensors-").FullName;
        path = Path.Combine(folder, "model.safetensors");
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void EveryDTypeRoundTripsBitForBit()
    {
        using Tensor f32 = Tensor.FromSpan<float>([1.5f, -2f, float.NaN, float.Epsilon, 0f, -0f], [2, 3]);
        using Tensor f16 = Tensor.FromSpan<Half>([(Half)1.5f, Half.MaxValue, Half.NegativeInfinity, (Half)(-3f)], [4]);
        using Tensor bf16 = Tensor.FromSpan<BFloat16>([(BFloat16)1f, (BFloat16)(-7.5f), BFloat16.FromBits(0x7FC1), (BFloat16)3e38f], [2, 1, 2]);
        using Tensor i32 = Tensor.FromSpan<int>([int.MinValue, -1, 0, int.MaxValue], [4]);
        using Tensor u8 = Tensor.FromSpan<byte>([0, 1, 127, 255, 9], [5]);
        using Tensor scalar = Tensor.FromSpan<float>([42f], []);
        using Tensor empty = Tensor.Zeros([0, 3]);
        var tensors = new Dictionary<string, Tensor>
        {
            ["u8"] = u8, ["f16"] = f16, ["f32"] = f32, ["bf16"] = bf16, ["i32"] = i32, ["scalar"] = scalar, ["empty"] = empty,
        };

        SafetensorsWriter.Write(path, tensors);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.That(file.Entries.Select(e => e.Name), Is.EquivalentTo(tensors.Keys));
        foreach ((string name, Tensor written) in tensors)
        {
            using Tensor read = file.Load(name);
            Assert.Multiple(() =>
            {
                Assert.That(read.DType, Is.EqualTo(written.DType), name);
                Assert.That(read.Shape.ToArray(), Is.EqualTo(written.Shape.ToArray()), name);
                Assert.That(Bytes(read), Is.EqualTo(Bytes(written)), name);
                Assert.That(file.Entries.Single(e => e.Name == name).DType, Is.EqualTo(written.DType), name);
            });
        }
    }

    [Test]
    public void AStridedViewIsWrittenInItsLogicalOrder()
    {
        using Tensor matrix = Tensor.FromSpan<float>([0, 1, 2, 3, 4, 5], [2, 3]);
        using Tensor transposed = matrix.Transpose(0, 1);
        Assert.That(transposed.IsContiguous, Is.False, "the test needs a strided input");

        SafetensorsWriter.Write(path, [new("t", transposed)]);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        using Tensor read = file.Load("t");
        Assert.That(read.Shape.ToArray(), Is.EqualTo(new[] { 3, 2 }));
        Assert.That(read.ToFloatArray(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void MetadataRoundTrips()
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "größe \"quoted\" \n line", [""] = "" };
        using Tensor x = Tensor.Zeros([1]);

        SafetensorsWriter.Write(path, [new("x", x)], metadata);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata, Is.EquivalentTo(metadata.Append(new("data_crc32", "2144df1c"))));
    }

    /// <summary>The checksum is zlib's CRC-32 of the data section: here of one float32 1.0 (python: zlib.crc32(b"\0\0\x80\x3f")).</summary>
    [Test]
    public void TheMetadataRecordsTheDataSectionsCrc32()
    {
        using Tensor one = Tensor.FromSpan<float>([1f], [1]);

        SafetensorsWriter.Write(path, [new("one", one)]);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata["data_crc32"], Is.EqualTo("aca16a6a"));
    }

    /// <summary>A rewrite that copies a file's metadata gets the checksum of what it writes, not the copied one.</summary>
    [Test]
    public void ACopiedChecksumIsReplaced()
    {
        using Tensor one = Tensor.FromSpan<float>([1f], [1]);

        SafetensorsWriter.Write(path, [new("one", one)], new Dictionary<string, string> { ["data_crc32"] = "2144df1c" });

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata["data_crc32"], Is.EqualTo("aca16a6a"));
    }

    /// <summary>Regression: a flipped bit in a weight loaded as a silently different value.</summary>
    [Test]
    public void AFlippedBitInTheDataIsRefused()
    {
        using Tensor values = Tensor.FromSpan<float>([1, 2, 3, 4], [4]);
        SafetensorsWriter.Write(path, [new("values", values)]);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x02;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<WeightFileException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.StartWith(path));
            Assert.That(error.Message, Does.Contain("the data section fails its CRC-32 check (16 bytes give"));
            Assert.That(error.Message, Does.Contain("the file is corrupt"));
        });
    }

    [TestCase("zzzzzzzz")]
    [TestCase("2144df1")]
    [TestCase("+2144df1")]
    public void AChecksumThatIsNotEightHexDigitsIsRefused(string recorded)
    {
        File.WriteAllBytes(path, SafetensorsBytes.File($$$"""{"__metadata__":{"data_crc32":"{{{recorded}}}"},"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", dataBytes: 4));

        var error = Assert.Throws<WeightFileException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(error.Message, Does.EndWith($"metadata 'data_crc32' is '{recorded}', not a CRC-32 of 8 hexadecimal digits"));
    }

    /// <summary>
    /// Regression: a header of 128 bytes (or 384, …) makes the file's first byte 0x80, a pickle's first opcode, and such a
    /// file was refused as a legacy torch.save file.
    /// </summary>
    [Test]
    public void AHeaderLengthThatStartsLikeAPickleIsStillSafetensors()
    {
        string header = """{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""";
        File.WriteAllBytes(path, SafetensorsBytes.File(header.PadRight(128), dataBytes: 4));
        Assert.That(File.ReadAllBytes(path)[0], Is.EqualTo(0x80), "the test needs the pickle's first byte");

        using IWeightFile file = WeightFiles.Open(path);
        Assert.That(file, Is.TypeOf<SafetensorsFile>());
        using Tensor x = file.Load("x");
        Assert.That(x.AsSpan<byte>().ToArray(), Is.EqualTo(new byte[] { 0, 1, 2, 3 }));
    }

    /// <summary>
    /// A safetensors header length's bytes may spell another format's signature (a pickle's 0x80, JPEG's FF D8 FF, zip's
    /// PK\3\4; the last two need headers of 16 and 67 MB, so only the first bytes are written here): the header's '{'
    /// at byte 8 makes it safetensors.
    /// </summary>
    [TestCase(0x80UL)]
    [TestCase(0xFFD8FFUL)]
    [TestCase(0x0AFFD8FFUL)]
    [TestCase(0x04034B50UL)]
    public void AHeaderLengthThatSpellsAnotherSignatureIsSafetensors(ulong headerLength)
    {
        File.WriteAllBytes(path, SafetensorsBytes.WithHeaderLength(headerLength, "{}"u8.ToArray(), []));
        Assert.That(WeightFiles.IsTorchCheckpoint(path), Is.False);
    }

    /// <summary>Other writers record no checksum (the format has none): their files are read as they are.</summary>
    [Test]
    public void AFileWithoutAChecksumIsRead()
    {
        File.WriteAllBytes(path, SafetensorsBytes.File("""{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", dataBytes: 4));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        using Tensor x = file.Load("x");
        Assert.That(x.AsSpan<byte>().ToArray(), Is.EqualTo(new byte[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void AFileWithoutTensorsIsValid()
    {
        SafetensorsWriter.Write(path, []);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(file.Entries, Is.Empty);
            Assert.That(file.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["data_crc32"] = "00000000" }));
        });
    }

    [Test]
    public void TheHeaderIsPaddedToEightBytesAndTheDataOrderedByElementSize()
    {
        using Tensor u8 = Tensor.Zeros([3], DType.U8);
        using Tensor f16 = Tensor.Zeros([1], DType.F16);
        using Tensor f32 = Tensor.Zeros([1]);
        using Tensor i32 = Tensor.Zeros([2], DType.I32);

        SafetensorsWriter.Write(path, [new("u8", u8), new("f16", f16), new("f32", f32), new("i32", i32)]);

        byte[] bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(headerLength % 8, Is.Zero);
            Assert.That(file.FileEntries.Select(e => e.Name), Is.EqualTo(new[] { "f32", "i32", "f16", "u8" }), "larger elements first, ties as given");
        });
    }

    [Test]
    public void LoadIsZeroCopy()
    {
        using Tensor a = Tensor.FromSpan<float>([1, 2], [2]);
        using Tensor b = Tensor.FromSpan<float>([3, 4, 5], [3]);
        SafetensorsWriter.Write(path, [new("a", a), new("b", b)]);

        using SafetensorsFile file = SafetensorsFile.Open(path);
        using Tensor first = file.Load("b");
        using Tensor second = file.Load("b");
        using Tensor other = file.Load("a");
        SafetensorsEntry entryA = file.FileEntries.Single(e => e.Name == "a");
        SafetensorsEntry entryB = file.FileEntries.Single(e => e.Name == "b");
        Assert.Multiple(() =>
        {
            Assert.That((nint)first.RawPointer, Is.EqualTo((nint)second.RawPointer), "two loads see the same mapped bytes");
            Assert.That((long)first.RawPointer - (long)other.RawPointer, Is.EqualTo(entryB.DataBegin - entryA.DataBegin), "tensors sit where the file puts them");
            Assert.That((long)other.RawPointer % sizeof(float), Is.Zero, "the writer's layout keeps elements aligned");
        });
    }

    [Test]
    public void ALoadedTensorOutlivesTheFileAndTheMappingGoesWithTheLastTensor()
    {
        using Tensor written = Tensor.FromSpan<float>([7, 8, 9], [3]);
        SafetensorsWriter.Write(path, [new("w", written)]);

        Tensor loaded;
        using (SafetensorsFile file = SafetensorsFile.Open(path))
            loaded = file.Load("w");
        Assert.That(loaded.ToFloatArray(), Is.EqualTo(new float[] { 7, 8, 9 }));
        Assert.That(IsMapped(path), Is.True, "the tensor keeps the mapping");
        loaded.Dispose();
        Assert.That(IsMapped(path), Is.False, "the last holder unmaps the file");
    }

    [Test]
    public void LoadAfterDisposeIsRefused()
    {
        SafetensorsWriter.Write(path, []);
        SafetensorsFile file = SafetensorsFile.Open(path);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Load("x").Dispose());
    }

    [Test]
    public void F64AndI64AreNarrowedAndBoolLoadsAsU8()
    {
        byte[] data = new byte[2 * 8 + 3 * 8 + 2];
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(0), 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), -1e300);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), int.MinValue);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(24), 5);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(32), int.MaxValue);
        data[40] = 1;
        File.WriteAllBytes(path, SafetensorsBytes.File(
            """
            {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},
             "ids":{"dtype":"I64","shape":[1,3],"data_offsets":[16,40]},
             "mask":{"dtype":"BOOL","shape":[2],"data_offsets":[40,42]}}
            """u8.ToArray(), data));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        using Tensor d = file.Load("d");
        using Tensor ids = file.Load("ids");
        using Tensor mask = file.Load("mask");
        Assert.Multiple(() =>
        {
            Assert.That(file.Entries.Select(e => (e.Name, e.DType)), Is.EqualTo(new[] { ("d", DType.F32), ("ids", DType.I32), ("mask", DType.U8) }));
            Assert.That(file.FileEntries.Select(e => e.DType), Is.EqualTo(new[] { SafetensorsDType.F64, SafetensorsDType.I64, SafetensorsDType.Bool }));
            Assert.That(d.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 0.1f, float.NegativeInfinity }));
            Assert.That(ids.Shape.ToArray(), Is.EqualTo(new[] { 1, 3 }));
            Assert.That(ids.AsSpan<int>().ToArray(), Is.EqualTo(new[] { int.MinValue, 5, int.MaxValue }));
            Assert.That(mask.AsSpan<byte>().ToArray(), Is.EqualTo(new byte[] { 1, 0 }));
        });
    }

    [Test]
    public void AnI64OutsideTheInt32RangeNamesTheTensor()
    {
        byte[] data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), 1L << 31);
        File.WriteAllBytes(path, SafetensorsBytes.File("""{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"""u8.ToArray(), data));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        WeightFileException error = Assert.Throws<WeightFileException>(() => file.Load("ids").Dispose());
        Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'ids'").And.Contain("element 1 is 2147483648, outside the i32 range"));
    }

    [Test]
    public void AnUnsupportedDTypeOpensButRefusesToLoad()
    {
        File.WriteAllBytes(path, SafetensorsBytes.File(
            """{"ok":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"e4m3":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[2,4]}}""", 4));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(file.Entries.Select(e => e.Name), Is.EqualTo(new[] { "ok" }));
            Assert.That(file.FileEntries.Select(e => e.DType), Is.EqualTo(new[] { SafetensorsDType.U8, SafetensorsDType.F8E4M3 }));
            Assert.That(file.Contains("e4m3"), Is.True);
        });
        WeightFileException error = Assert.Throws<WeightFileException>(() => file.Load("e4m3").Dispose());
        Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'e4m3'").And.Contain("dtype F8_E4M3 is not supported"));
    }

    [Test]
    public void AnUnknownNameNamesTheTensorAndTheFile()
    {
        SafetensorsWriter.Write(path, []);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.That(file.Contains("missing"), Is.False);
        WeightFileException error = Assert.Throws<WeightFileException>(() => file.Load("missing").Dispose());
        Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'missing'").And.Contain("no tensor of this name"));
    }

    [Test]
    public void TheWriterRefusesADuplicateNameAndWritesNothing()
    {
        using Tensor x = Tensor.Zeros([1]);
        ArgumentException error = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("x", x), new("x", x)]));
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'x' is given twice"));
            Assert.That(Directory.GetFiles(folder), Is.Empty);
        });
    }

    [Test]
    public void TheWriterRefusesTheMetadataKeyAsATensorName()
    {
        using Tensor x = Tensor.Zeros([1]);
        ArgumentException error = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("__metadata__", x)]));
        Assert.That(error.Message, Does.Contain("'__metadata__' is reserved"));
    }

    [Test]
    public void TheWriterRefusesAGpuTensor()
    {
        Requires.CudaDevice();
        using Tensor host = Tensor.Zeros([2]);
        using Tensor gpu = host.ToDevice(Device.Cuda());
        ArgumentException error = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("g", gpu)]));
        Assert.That(error.Message, Does.Contain("tensor 'g' lives on cuda:0"));
    }

    [Test]
    public void ATensorTheFileLeavesUnalignedStillLoads()
    {
        byte[] data = [1, 2, 3, 0, 0, 0, 0];
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(3), 2.5f);
        File.WriteAllBytes(path, SafetensorsBytes.File(
            """{"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}"""u8.ToArray(), data));

        using SafetensorsFile file = SafetensorsFile.Open(path);
        using Tensor f = file.Load("f");
        Assert.That(f.ToFloatArray(), Is.EqualTo(new[] { 2.5f }));
    }

    private static byte[] Bytes(Tensor tensor)
    {
        using Tensor dense = tensor.Contiguous();
        return new ReadOnlySpan<byte>(dense.RawPointer, checked((int)dense.ByteLength)).ToArray();
    }

    /// <summary>Whether this process maps <paramref name="file"/>, from the kernel's own list of mappings.</summary>
    private static bool IsMapped(string file)
    {
        if (!File.Exists("/proc/self/maps"))
            Assert.Ignore("no /proc/self/maps to see mappings in");
        return File.ReadLines("/proc/self/maps").Any(line => line.EndsWith(file, StringComparison.Ordinal));
    }
}
