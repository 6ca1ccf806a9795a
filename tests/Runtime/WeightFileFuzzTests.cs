using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>
/// Seeded mutation fuzzing of the weight-file readers: valid safetensors files, PyTorch checkpoints and
/// pickles get byte flips, truncations, insertions, deletions, splices and hostile values written over
/// their length fields. Every outcome must be success (opening and loading every tensor) or a
/// <see cref="WeightFileException"/>; any other exception, a case slower than <see cref="MaxTimePerCase"/>,
/// or one allocating more than <see cref="MaxAllocatedBytesPerCase"/> is a failure, reported with the
/// seed file, case number and mutations so it can be replayed.
/// </summary>
[TestFixture]
public sealed class WeightFileFuzzTests
{
    /// <summary>Fixed, so a failure replays exactly; RECLIP_FUZZ_SEED explores other cases.</summary>
    private static readonly int BaseSeed = EnvironmentInt("RECLIP_FUZZ_SEED", 20_261_126);

    /// <summary>About 3 ms a file case, mostly writing and mapping it: ~15 s for the suite on two cores. RECLIP_FUZZ_SCALE multiplies the counts for a longer hunt.</summary>
    private static readonly int CasesPerFile = 500 * EnvironmentInt("RECLIP_FUZZ_SCALE", 1);

    private static readonly int CasesPerPickle = 3000 * EnvironmentInt("RECLIP_FUZZ_SCALE", 1);

    /// <summary>Files here are at most 52 KB; a mutation that makes one take a second is a performance bug (a quadratic scan, a huge loop).</summary>
    private static readonly TimeSpan MaxTimePerCase = TimeSpan.FromSeconds(1);

    /// <summary>The hang guard for one seed's whole run.</summary>
    private static readonly TimeSpan MaxTimePerSeed = TimeSpan.FromSeconds(30 * EnvironmentInt("RECLIP_FUZZ_SCALE", 1));

    /// <summary>The readers' own caps (stack, memo, expanded views) hold a case to tens of MB; 500 MB means a cap is missing.</summary>
    private const long MaxAllocatedBytesPerCase = 500L << 20;

    private static readonly string[] FileSeeds =
    [
        "safetensors", "hand-built-stored", "hand-built-deflated",
        "state_dict_f32.pt", "state_dict_f16.pt", "open_clip_wrapped.pt", "torchscript_clip.pt", "int64_out_of_range.pt",
    ];

    private static readonly long[] InterestingValues =
    [
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, long.MaxValue, -1, long.MinValue,
    ];

    private static readonly string[] InterestingNumbers =
    [
        "0", "1", "-1", "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "0.5", "[]", "\"x\"", "null",
    ];

    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-fuzz-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void EverySeedIsValid()
    {
        foreach (string seed in FileSeeds.Where(s => s != "int64_out_of_range.pt"))
        {
            string path = Path.Combine(folder, seed);
            File.WriteAllBytes(path, SeedFile(seed));
            Assert.DoesNotThrow(() => OpenAndLoadAll(path), seed);
        }
        foreach (byte[] pickle in SeedPickles())
            Assert.DoesNotThrow(() => RunPickle(pickle));
    }

    [TestCaseSource(nameof(FileSeeds))]
    public void MutatedFilesOpenOrFailWithAWeightFileException(string seed)
    {
        byte[] original = SeedFile(seed);
        string path = Path.Combine(folder, "mutant" + (seed.EndsWith(".pt", StringComparison.Ordinal) || seed.StartsWith("hand", StringComparison.Ordinal) ? ".pt" : ".safetensors"));
        int seedNumber = BaseSeed + Array.IndexOf(FileSeeds, seed);
        Fuzz(seed, seedNumber, original, CasesPerFile, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            OpenAndLoadAll(path);
        });
    }

    [Test]
    public void MutatedPicklesRunOrFailWithAWeightFileException()
    {
        byte[][] pickles = [.. SeedPickles()];
        for (int p = 0; p < pickles.Length; p++)
            Fuzz($"pickle {p}", BaseSeed + 100 + p, pickles[p], CasesPerPickle / pickles.Length, RunPickle);
    }

    private static void Fuzz(string seed, int seedNumber, byte[] original, int cases, Action<byte[]> run)
    {
        var failures = new List<string>();
        int accepted = 0, refused = 0;
        var task = Task.Run(() =>
        {
            var random = new Random(seedNumber);
            for (int i = 0; i < cases; i++)
            {
                var mutations = new List<string>();
                byte[] mutant = original;
                int count = 1 + random.Next(3);
                for (int m = 0; m < count; m++)
                    mutant = Mutate(mutant, random, mutations);
                string where = $"{seed} (seed {seedNumber}) case {i}: {string.Join("; ", mutations)}";

                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                try
                {
                    run(mutant);
                    accepted++;
                }
                catch (WeightFileException)
                {
                    refused++;
                }
                catch (Exception e)
                {
                    failures.Add($"{where}: {e.GetType().Name}: {e.Message}");
                }
                clock.Stop();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                if (clock.Elapsed > MaxTimePerCase)
                    failures.Add($"{where}: took {clock.Elapsed.TotalMilliseconds:F0} ms");
                if (allocated > MaxAllocatedBytesPerCase)
                    failures.Add($"{where}: allocated {allocated} bytes");
            }
        });
        Assert.That(task.Wait(MaxTimePerSeed), Is.True, $"{seed}: the fuzz run did not finish within {MaxTimePerSeed} (a hang?)");
        TestContext.Out.WriteLine($"{seed}: {cases} cases, {accepted} accepted, {refused} refused, {failures.Count} failures");
        Assert.That(failures, Is.Empty);
    }

    private static int EnvironmentInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;

    private static void OpenAndLoadAll(string path)
    {
        using IWeightFile file = WeightFiles.Open(path);
        // What `reclip info --weights` computes from the index: a shape whose element count overflows must have been refused at Open.
        _ = file.Entries.Sum(entry => entry.ElementCount);
        foreach (WeightEntry entry in file.Entries)
        {
            using Tensor tensor = file.Load(entry.Name);
        }
    }

    private static void RunPickle(byte[] pickle)
    {
        object? value = PickleMachine.Run(pickle, new TorchPickleResolver(allowModuleClasses: false), "fuzz.pt", "archive/data.pkl");
        TorchStateDictWalker.Collect(value, "fuzz.pt");
    }

    private static byte[] Mutate(byte[] input, Random random, List<string> log)
    {
        byte[] bytes = [.. input];
        int at = bytes.Length == 0 ? 0 : random.Next(bytes.Length);
        switch (random.Next(9))
        {
            case 0 when bytes.Length > 0:
                byte mask = (byte)(1 << random.Next(8));
                bytes[at] ^= mask;
                log.Add($"flip 0x{mask:x2} at {at}");
                return bytes;
            case 1 when bytes.Length > 0:
                byte value = (byte)InterestingValues[random.Next(6)];
                bytes[at] = value;
                log.Add($"byte 0x{value:x2} at {at}");
                return bytes;
            case 2:
                int length = random.Next(bytes.Length + 1);
                log.Add($"truncate to {length}");
                return bytes[..length];
            case 3:
                byte[] inserted = new byte[1 + random.Next(64)];
                random.NextBytes(inserted);
                log.Add($"insert {inserted.Length} bytes at {at}");
                return [.. bytes[..at], .. inserted, .. bytes[at..]];
            case 4:
                int end = Math.Min(bytes.Length, at + 1 + random.Next(64));
                log.Add($"delete [{at}, {end})");
                return [.. bytes[..at], .. bytes[end..]];
            case 5:
                int source = bytes.Length == 0 ? 0 : random.Next(bytes.Length);
                int span = Math.Min(Math.Min(bytes.Length - source, bytes.Length - at), 1 + random.Next(128));
                Array.Copy(input, source, bytes, at, Math.Max(span, 0));
                log.Add($"splice {span} bytes from {source} to {at}");
                return bytes;
            case 6:
                return WriteInteger(bytes, at, random, log);
            case 7:
                int[] fields = LengthFields(bytes);
                return fields.Length == 0 ? WriteInteger(bytes, at, random, log) : WriteInteger(bytes, fields[random.Next(fields.Length)], random, log);
            default:
                return ReplaceJsonNumber(bytes, random, log);
        }
    }

    private static byte[] WriteInteger(byte[] bytes, int at, Random random, List<string> log)
    {
        int width = (1 << random.Next(3)) * 2;
        long value = random.Next(4) == 0 ? random.NextInt64() : InterestingValues[random.Next(InterestingValues.Length)];
        if (at + width > bytes.Length)
            return bytes;
        Span<byte> field = bytes.AsSpan(at, width);
        if (width == 2) BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value);
        else if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value);
        else BinaryPrimitives.WriteInt64LittleEndian(field, value);
        log.Add($"write {value} as {width} bytes at {at}");
        return bytes;
    }

    /// <summary>The sizes, offsets and counts of a zip's records and a safetensors file's header length: where a lie does the most damage.</summary>
    private static int[] LengthFields(byte[] bytes)
    {
        var fields = new List<int>();
        if (bytes.Length >= 8 && bytes[0] != (byte)'P')
            fields.Add(0);
        for (int at = 0; at + 4 <= bytes.Length; at++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            int[] offsets = signature switch
            {
                0x04034b50 => [8, 18, 22, 26, 28],
                0x02014b50 => [8, 10, 20, 24, 28, 30, 32, 42],
                0x06054b50 => [8, 10, 12, 16, 20],
                0x06064b50 => [24, 32, 40, 48],
                0x07064b50 => [8],
                _ => [],
            };
            fields.AddRange(offsets.Select(o => at + o).Where(o => o < bytes.Length));
        }
        return [.. fields];
    }

    /// <summary>Swaps one number of a safetensors JSON header (a shape, an offset) for a hostile one; the header length is fixed up so the header still parses that far.</summary>
    private static byte[] ReplaceJsonNumber(byte[] bytes, Random random, List<string> log)
    {
        if (bytes.Length < 8 || bytes[0] == (byte)'P' || bytes[0] == 0x80)
            return WriteInteger(bytes, random.Next(Math.Max(bytes.Length, 1)), random, log);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (declared > (ulong)(bytes.Length - 8))
            return bytes;
        int headerEnd = 8 + (int)declared;
        List<int> digits = [.. Enumerable.Range(8, headerEnd - 8).Where(i => char.IsAsciiDigit((char)bytes[i]) && !char.IsAsciiDigit((char)bytes[i - 1]))];
        if (digits.Count == 0)
            return bytes;
        int start = digits[random.Next(digits.Count)];
        int stop = start;
        while (stop < headerEnd && char.IsAsciiDigit((char)bytes[stop]))
            stop++;
        string replacement = InterestingNumbers[random.Next(InterestingNumbers.Length)];
        byte[] header = [.. bytes[8..start], .. Encoding.ASCII.GetBytes(replacement), .. bytes[stop..headerEnd]];
        log.Add($"number at {start} -> {replacement}");
        return SafetensorsBytes.File(header, bytes[headerEnd..]);
    }

    private static byte[] SeedFile(string seed) => seed switch
    {
        "safetensors" => ValidSafetensors(),
        "hand-built-stored" => HostileWeightCorpus.ValidCheckpoint,
        "hand-built-deflated" => HostileWeightCorpus.CheckpointWith(CheckpointArchiveBuilder.TwoByTwoPickle(), CompressionLevel.Optimal),
        _ => File.ReadAllBytes(TorchFixtures.PathOf(seed)),
    };

    /// <summary>Every dtype the reader loads, F64 and I64 (narrowed on load) included.</summary>
    private static byte[] ValidSafetensors()
    {
        byte[] data =
        [
            .. BitConverter.GetBytes(1.5), .. BitConverter.GetBytes(-2.0),
            .. BitConverter.GetBytes(3L), .. BitConverter.GetBytes(-4L),
            .. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f), .. BitConverter.GetBytes(3f),
            .. BitConverter.GetBytes((Half)1), .. BitConverter.GetBytes((Half)2),
            0x80, 0x3f, 0x00, 0x40,
            .. BitConverter.GetBytes(7),
            1, 0, 1, 1,
            9, 8, 7, 6,
        ];
        const string Header = """
            {"__metadata__":{"format":"pt"},
             "f64":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},
             "i64":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},
             "f32":{"dtype":"F32","shape":[3],"data_offsets":[32,44]},
             "f16":{"dtype":"F16","shape":[2],"data_offsets":[44,48]},
             "bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[48,52]},
             "i32":{"dtype":"I32","shape":[],"data_offsets":[52,56]},
             "mask":{"dtype":"BOOL","shape":[2,2],"data_offsets":[56,60]},
             "u8":{"dtype":"U8","shape":[4],"data_offsets":[60,64]}}
            """;
        return SafetensorsBytes.File(Encoding.UTF8.GetBytes(Header), data);
    }

    /// <summary>A state dict with nesting, memo reuse and every rebuild form; plus the hand-built 2×2 one.</summary>
    private static IEnumerable<byte[]> SeedPickles()
    {
        yield return CheckpointArchiveBuilder.TwoByTwoPickle();
        yield return new PickleAssembler().Proto().EmptyDict().Op((byte)'q').Raw(0).Mark()
            .String("model").EmptyDict().Mark()
                .String("visual.proj").FloatTensor("0", 6, 0, [2, 3], [3, 1])
                .String("visual.bias").Global("torch._utils", "_rebuild_parameter").Mark()
                    .FloatTensor("1", 3, 0, [3], [1], "HalfStorage").Op(0x88).Global("collections", "OrderedDict").EmptyTuple().Reduce()
                    .Tuple().Reduce()
                .String("position_ids").FloatTensor("2", 4, 0, [1, 4], [4, 1], "LongStorage")
            .SetItems()
            .String("epoch").Int(32)
            .String("name").String("ViT-B-16")
            .String("lr").Op((byte)'G').Raw(0x3f, 0x50, 0x62, 0x4d, 0xd2, 0xf1, 0xa9, 0xfc)
            .SetItems().Stop().ToArray();
    }
}
