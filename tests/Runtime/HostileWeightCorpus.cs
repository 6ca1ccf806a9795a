using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>
/// One hostile weight file: its bytes, the words its refusal must contain, and, for a pickle that would
/// run a command, the file that command would create.
/// </summary>
public sealed record HostileWeightFile(string Name, byte[] Bytes, string Expected, string? Marker = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The hostile-input corpus (issue "Hardening: hostile inputs"), built deterministically in code so no
/// binary is committed: truncated, oversized, overlapping and mistyped safetensors; truncated, bombed,
/// path-tricking and pickle-abusing PyTorch checkpoints. Every file must be refused with one line that
/// names it and the problem, in bounded time and memory, and no payload may run.
/// </summary>
internal static class HostileWeightCorpus
{
    /// <summary>Where each forbidden-global payload would write its marker if anything ever ran it.</summary>
    public static string MarkerFolder { get; } = Path.Combine(Path.GetTempPath(), "reclip-hostile-markers");

    /// <summary>Built once per test run: NUnit enumerates test sources more than once, and the bomb and flood cases take a moment to build.</summary>
    private static readonly Lazy<HostileWeightFile[]> Corpus = new(() => [.. Safetensors(), .. Checkpoints(), .. Pickles(), .. ForbiddenGlobals()]);

    public static IReadOnlyList<HostileWeightFile> All() => Corpus.Value;

    /// <summary>Two tensors, F32 [2] then F16 [2], tiling a 12-byte data section.</summary>
    public static byte[] ValidSafetensors { get; } = SafetensorsBytes.File(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}""", 12);

    /// <summary>The hand-built {"weight": 2×2 float32} checkpoint, stored.</summary>
    public static byte[] ValidCheckpoint { get; } = Zip(CompressionLevel.NoCompression,
        ("archive/data.pkl", CheckpointArchiveBuilder.TwoByTwoPickle()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

    public static byte[] Zip(CompressionLevel level, params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in entries)
            {
                using Stream stream = archive.CreateEntry(name, level).Open();
                stream.Write(content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A checkpoint whose data.pkl is <paramref name="pickle"/> next to the valid 2×2 storage.</summary>
    public static byte[] CheckpointWith(byte[] pickle, CompressionLevel level = CompressionLevel.NoCompression) =>
        Zip(level, ("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour));

    private static IEnumerable<HostileWeightFile> Safetensors()
    {
        byte[] valid = ValidSafetensors;
        int header = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        // An empty file is no format's: it is refused as what it is, whatever its name says.
        yield return new("empty-file", [], "the file is empty");
        foreach (int cut in new[] { 1, 7 })
            yield return new($"st-truncated-at-{cut}", valid[..cut], "shorter than the 8-byte header length");
        // An image given for the weights (two arguments swapped): its first eight bytes would read as a huge header length.
        yield return new("png-image", [0x89, .. "PNG\r\n\u001a\n"u8, .. valid], "is a PNG image, not a weight file");
        yield return new("jpeg-image", [0xFF, 0xD8, 0xFF, 0xE0, .. valid], "is a JPEG image, not a weight file");
        foreach (int cut in new[] { 8, 9, 8 + header / 2, 8 + header - 1 })
            yield return new($"st-truncated-at-{cut}", valid[..cut], $"header length {header} runs past the end");
        foreach (int cut in new[] { 8 + header, valid.Length - 1 })
            yield return new($"st-truncated-at-{cut}", valid[..cut], "reach past the end of the");

        byte[] json = valid[8..(8 + header)];
        byte[] data = valid[(8 + header)..];
        yield return new("st-header-length-u64-max", SafetensorsBytes.WithHeaderLength(ulong.MaxValue, json, data), "exceeds the 100000000-byte limit");
        yield return new("st-header-length-over-limit", SafetensorsBytes.WithHeaderLength(100_000_001, json, data), "exceeds the 100000000-byte limit");
        yield return new("st-header-length-past-file", SafetensorsBytes.WithHeaderLength(4096, json, data), "runs past the end of the");

        const string B = "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]}";
        yield return new("st-overlapping-offsets",
            SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}""", 8), "overlap tensor 'a'");
        yield return new("st-offsets-overflow-int64",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9223372036854775807]}," + B + "}", 12), "reach past the end of the 12-byte data section");
        yield return new("st-offsets-beyond-int64",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}," + B + "}", 12), "is too large");
        yield return new("st-offsets-reversed",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}," + B + "}", 12), "is after end");
        yield return new("st-gap-between-tensors",
            SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}""", 12), "belong to no tensor");
        yield return new("st-unknown-dtype",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}," + B + "}", 12), "unknown dtype 'F33'");
        yield return new("st-shape-does-not-match-bytes",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}," + B + "}", 12), "needs 12");
        yield return new("st-shape-product-overflows",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}," + B + "}", 12), "too many elements to address");
        yield return new("st-negative-dimension",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}," + B + "}", 12), "is negative");
        yield return new("st-deeply-nested-shape",
            SafetensorsBytes.File("{\"a\":{\"dtype\":\"F32\",\"shape\":" + new string('[', 10_000) + new string(']', 10_000) + ",\"data_offsets\":[0,8]}}", 8), "shape dimension is an array, not an integer");
        yield return new("st-header-not-utf8",
            SafetensorsBytes.File([(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []), "not valid UTF-8");
        yield return new("st-duplicate-name",
            SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "appears twice");
        yield return new("st-header-is-an-array", SafetensorsBytes.File("[1,2,3]"), "not a JSON object");
    }

    private static IEnumerable<HostileWeightFile> Checkpoints()
    {
        byte[] valid = ValidCheckpoint;
        yield return new("pt-truncated-at-3", valid[..3], "shorter than the 8-byte header length");
        foreach (int cut in new[] { 4, 40, valid.Length / 2, valid.Length - 22, valid.Length - 1 })
            yield return new($"pt-truncated-at-{cut}", valid[..cut], "not a zip archive");
        byte[] fixture = File.ReadAllBytes(TorchFixtures.PathOf("state_dict_f32.pt"));
        yield return new("pt-fixture-truncated-at-half", fixture[..(fixture.Length / 2)], "not a zip archive");

        byte[] pickle = CheckpointArchiveBuilder.TwoByTwoPickle();
        byte[] deflated = CheckpointWith(pickle, CompressionLevel.Optimal);
        yield return new("pt-zip-bomb-declared-ratio", WithCentralField(deflated, "archive/data.pkl", 24, 0xFFFF_FFF0), "more than deflate can produce");
        yield return new("pt-zip-bomb-inflates-past-declared", WithCentralField(deflated, "archive/data.pkl", 24, 16), "inflates beyond the 16 bytes it declares");
        yield return new("pt-zip-deflate-shorter-than-declared",
            WithCentralField(deflated, "archive/data.pkl", 24, (uint)pickle.Length + 100), $"inflates to {pickle.Length} bytes, not the {pickle.Length + 100}");
        // 32 MiB of zeros deflate ~1000:1: an honest declaration, refused only once inflated, so this bounds the memory a bomb costs.
        yield return new("pt-zip-bomb-32mib-of-zeros", CheckpointWith(new byte[32 << 20], CompressionLevel.Optimal), "unknown opcode (0x00)");
        yield return new("pt-zip-compressed-method-lzma", WithCentralField(deflated, "archive/data.pkl", 10, 14, width: 2), "uses compression method 14");
        yield return new("pt-zip-encrypted-entry", WithCentralField(valid, "archive/data.pkl", 8, 1, width: 2), "is encrypted");
        yield return new("pt-zip-entry-count-lie", WithEndField(valid, 10, 0xFFFF, width: 2), "cannot fit");
        yield return new("pt-zip-directory-offset-past-end", WithEndField(valid, 16, 0x7FFF_FFFF, width: 4), "lies outside the archive");

        foreach ((string trick, string name) in new[]
        {
            ("parent", "../evil.pkl"), ("nested-parent", "archive/../../evil.pkl"), ("absolute", "/etc/evil.pkl"),
            ("backslash", "archive\\..\\evil.pkl"), ("drive", "C:/evil.pkl"), ("empty-segment", "archive//evil.pkl"),
        })
            yield return new($"pt-zip-path-{trick}",
                Zip(CompressionLevel.NoCompression, ("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour), (name, [1])),
                "is not a plain relative path");
        yield return new("pt-zip-duplicate-entry",
            Zip(CompressionLevel.NoCompression, ("archive/data.pkl", pickle), ("archive/data/0", CheckpointArchiveBuilder.OneToFour), ("archive/data.pkl", pickle)),
            "appears twice");
        yield return new("pt-no-data-pkl", Zip(CompressionLevel.NoCompression, ("archive/version", "3\n"u8.ToArray())), "no archive/data.pkl");
        yield return new("pt-big-endian", Zip(CompressionLevel.NoCompression,
            ("archive/data.pkl", pickle), ("archive/byteorder", "big"u8.ToArray()), ("archive/data/0", CheckpointArchiveBuilder.OneToFour)), "byte order 'big'");
        yield return new("pt-legacy-bare-pickle", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e], "legacy (pre-1.6)");
        yield return new("pt-missing-storage", CheckpointWith(CheckpointArchiveBuilder.TwoByTwoPickle(key: "7")), "has no archive/data/7 entry");
        yield return new("pt-storage-key-path-trick", CheckpointWith(Tensor("../0", 4, 0, [2, 2], [2, 1])), "not an alphanumeric string");
        yield return new("pt-storage-numel-int64-max", CheckpointWith(Tensor("0", long.MaxValue, 0, [2, 2], [2, 1])), "overflow 64-bit arithmetic");
        yield return new("pt-storage-numel-huge", CheckpointWith(Tensor("0", 1L << 40, 0, [2, 2], [2, 1])), "but its entry holds 16 bytes");
        yield return new("pt-storage-numel-negative", CheckpointWith(Tensor("0", -1, 0, [2, 2], [2, 1])), "has element count");
        yield return new("pt-stride-past-storage", CheckpointWith(Tensor("0", 4, 0, [2, 2], [100, 1])), "reach element 102 of a 4-element");
        yield return new("pt-offset-past-storage", CheckpointWith(Tensor("0", 4, 1L << 40, [2, 2], [2, 1])), "reach element");
        yield return new("pt-dimension-over-int32", CheckpointWith(Tensor("0", 4, 0, [1L << 33, 0], [0, 0])), "exceeds 2147483647");
        yield return new("pt-shape-product-overflows", CheckpointWith(Tensor("0", 4, 0, [int.MaxValue, int.MaxValue, int.MaxValue], [0, 0, 0])), "overflow 64-bit arithmetic");
        yield return new("pt-expanded-view-of-four-floats", CheckpointWith(Tensor("0", 4, 0, [65536, 65536], [0, 0])), "limit for expanded views");
        yield return new("pt-rank-65", CheckpointWith(Tensor("0", 4, 0, [.. Enumerable.Repeat(1L, 65)], [.. Enumerable.Repeat(1L, 65)])), "not a tuple of at most 64 ints");
    }

    private static IEnumerable<HostileWeightFile> Pickles()
    {
        yield return Pickle("unknown-opcode-ff", new PickleAssembler().Proto().Op(0xff).Stop(), "unknown opcode (0xff)");
        yield return Pickle("inst-os-system", new PickleAssembler().Proto().Mark().String("x").Op((byte)'i').Raw("os\nsystem\n"u8.ToArray()).Stop(), "opcode Inst (0x69) is not supported");
        yield return Pickle("ext-registry", new PickleAssembler().Proto().Op(0x82).Raw(1).Stop(), "opcode Ext1 (0x82) is not supported");
        yield return Pickle("protocol-6", new PickleAssembler().Proto(6).EmptyDict().Stop(), "pickle protocol 6 is newer than 5");
        yield return Pickle("no-stop", new PickleAssembler().Proto().EmptyDict(), "ends without a STOP opcode");
        yield return Pickle("frame-past-end", new PickleAssembler().Proto(4).Op(0x95).Raw(BitConverter.GetBytes(long.MaxValue)).EmptyDict().Stop(), "a frame runs past the end");
        yield return Pickle("binunicode-4gib", new PickleAssembler().Proto().Op((byte)'X').Raw(0xff, 0xff, 0xff, 0xff).Stop(), "runs past the end of the pickle");
        yield return Pickle("binbytes8-huge", new PickleAssembler().Proto(4).Op(0x8e).Raw(BitConverter.GetBytes(long.MaxValue)).Stop(), "runs past the end of the pickle");
        yield return Pickle("long1-200-bytes", new PickleAssembler().Proto().Op(0x8a).Raw(200).Raw(new byte[200]).Stop(), "wider than 64 bits");
        yield return Pickle("memo-get-unset", new PickleAssembler().Proto().Op((byte)'h').Raw(5).Stop(), "memo entry 5 was never stored");
        yield return Pickle("memo-put-empty-stack", new PickleAssembler().Proto().Op((byte)'q').Raw(0).Stop(), "a memo store finds an empty stack");

        var memoFlood = new PickleAssembler().Proto().EmptyDict();
        for (int i = 0; i <= PickleMachine.MaxMemoEntries; i++)
            memoFlood.Op((byte)'r').Raw(BitConverter.GetBytes(i));
        yield return Pickle("memo-flood", memoFlood.Stop(), "the memo grows beyond");

        // A dict that holds itself, through the memo: a cycle the walker must not follow forever.
        yield return Pickle("memo-cycle", new PickleAssembler().Proto().EmptyDict().Op((byte)'q').Raw(0).Mark().String("self").Op((byte)'h').Raw(0).SetItems().Stop(), "nest deeper than 64 levels");

        // Each level holds the one below twice, through the memo: 2^40 paths through 41 dicts, all under one root.
        var shared = new PickleAssembler().Proto().EmptyDict().Mark().String("k0").EmptyDict().Op((byte)'q').Raw(0);
        for (int level = 1; level <= 40; level++)
            shared.String($"k{level}").EmptyDict().Mark().String("a").Op((byte)'h').Raw(0).String("b").Op((byte)'h').Raw(0).SetItems().Op((byte)'q').Raw(0);
        yield return Pickle("memo-shared-dag", shared.SetItems().Stop(), "more than 1048576 nodes");

        var stackFlood = new PickleAssembler().Proto();
        for (int i = 0; i <= PickleMachine.MaxStackDepth; i++)
            stackFlood.Op((byte)']');
        yield return Pickle("stack-flood", stackFlood.Stop(), "the stack grows beyond");

        var marks = new PickleAssembler().Proto();
        for (int i = 0; i < 10_000; i++)
            marks.Mark();
        yield return Pickle("deep-tuples", marks.Stop(), "MARKs nest deeper than 256");

        var dicts = new PickleAssembler().Proto();
        for (int i = 0; i < 1000; i++)
            dicts.EmptyDict().String("d");
        dicts.EmptyDict();
        for (int i = 0; i < 1000; i++)
            dicts.Op((byte)'s');
        yield return Pickle("deep-dicts", dicts.Stop(), "nest deeper than 64 levels");

        yield return Pickle("reduce-non-tuple", new PickleAssembler().Proto().Global("collections", "OrderedDict").EmptyDict().Reduce().Stop(), "REDUCE needs a tuple");
        yield return Pickle("build-on-int", new PickleAssembler().Proto().Int(1).EmptyDict().Op((byte)'b').Stop(), "BUILD cannot set a dict on an int");
    }

    /// <summary>Globals torch.load's unrestricted unpickler would import and call; each payload would create its marker file.</summary>
    private static IEnumerable<HostileWeightFile> ForbiddenGlobals()
    {
        (string Module, string Name)[] globals =
        [
            ("os", "system"), ("posix", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "exec"),
            ("builtins", "getattr"), ("builtins", "__import__"), ("__builtin__", "eval"), ("subprocess", "Popen"),
            ("subprocess", "check_output"), ("operator", "attrgetter"), ("torch", "load"), ("pickle", "loads"),
            ("runpy", "_run_code"), ("torch.storage", "_load_from_bytes"), ("shutil", "rmtree"),
        ];
        foreach ((string module, string name) in globals)
        {
            string marker = Path.Combine(MarkerFolder, $"{module}.{name}");
            byte[] pickle = new PickleAssembler().Proto().Global(module, name).String($"touch {marker}").Op(0x85).Reduce().Stop().ToArray();
            yield return new($"global-{module}.{name}", CheckpointWith(pickle), $"global '{module}.{name}' is not allowed", marker);
        }
        string stackMarker = Path.Combine(MarkerFolder, "stack-global.os.system");
        byte[] stackGlobal = new PickleAssembler().Proto(4).String("os").String("system").Op(0x93).String($"touch {stackMarker}").Op(0x85).Reduce().Stop().ToArray();
        yield return new("stack-global-os.system", CheckpointWith(stackGlobal), "global 'os.system' is not allowed", stackMarker);
        string scriptMarker = Path.Combine(MarkerFolder, "torchscript.os.system");
        byte[] script = new PickleAssembler().Proto().Global("__torch__.os", "system").String($"touch {scriptMarker}").Op(0x85).Reduce().Stop().ToArray();
        yield return new("torchscript-class-outside-torchscript", CheckpointWith(script), "is a TorchScript module class", scriptMarker);
    }

    private static HostileWeightFile Pickle(string name, PickleAssembler pickle, string expected) =>
        new($"pickle-{name}", CheckpointWith(pickle.ToArray()), expected);

    private static byte[] Tensor(string key, long numel, long offset, long[] size, long[] stride, string storageClass = "FloatStorage") =>
        new PickleAssembler().Proto().EmptyDict().Mark().String("weight").FloatTensor(key, numel, offset, size, stride, storageClass).SetItems().Stop().ToArray();

    /// <summary>A copy of <paramref name="zip"/> with one field of <paramref name="entryName"/>'s central directory header overwritten.</summary>
    private static byte[] WithCentralField(byte[] zip, string entryName, int field, uint value, int width = 4)
    {
        byte[] copy = [.. zip];
        byte[] name = Encoding.ASCII.GetBytes(entryName);
        for (int at = 0; at + 46 <= copy.Length; at++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(at)) != 0x02014b50 || !copy.AsSpan(at + 46).StartsWith(name))
                continue;
            Write(copy.AsSpan(at + field), value, width);
            return copy;
        }
        throw new ArgumentException($"no central directory entry '{entryName}'", nameof(entryName));
    }

    /// <summary>A copy of an archive without comment with one field of its end-of-central-directory record overwritten.</summary>
    private static byte[] WithEndField(byte[] zip, int field, uint value, int width)
    {
        byte[] copy = [.. zip];
        Write(copy.AsSpan(copy.Length - 22 + field), value, width);
        return copy;
    }

    private static void Write(Span<byte> destination, uint value, int width)
    {
        if (width == 2)
            BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)value);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(destination, value);
    }
}
