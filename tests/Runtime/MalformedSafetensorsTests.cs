using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>Every way a safetensors file can be broken that <see cref="SafetensorsFile.Open"/> must refuse, each with its own message.</summary>
[TestFixture]
public sealed class MalformedSafetensorsTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-safetensors-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [TestCaseSource(nameof(MalformedFiles))]
    public void OpenRefusesWithItsOwnOneLineMessage(byte[] bytes, string expected, string? tensor)
    {
        string path = Path.Combine(folder, "broken.safetensors");
        File.WriteAllBytes(path, bytes);
        WeightFileException error = Assert.Throws<WeightFileException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.StartWith(path));
            Assert.That(error.Message, Does.Contain(expected));
            Assert.That(error.TensorName, Is.EqualTo(tensor));
            if (tensor is not null)
                Assert.That(error.Message, Does.Contain($"tensor '{tensor}'"));
            Assert.That(error.Message, Does.Not.Contain('\n').And.Not.Contain('\r'));
        });
    }

    [Test]
    public void EveryMalformedFileHasADistinctExpectedMessage()
    {
        string[] expected = [.. MalformedFiles().Select(testCase => (string)testCase.Arguments[1]!)];
        Assert.That(expected, Is.Unique);
    }

    [Test]
    public void AControlCharacterInANameDoesNotBreakTheMessageIntoLines()
    {
        string path = Path.Combine(folder, "newline.safetensors");
        File.WriteAllBytes(path, SafetensorsBytes.File("{\"a\\nb\":42}"));
        WeightFileException error = Assert.Throws<WeightFileException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(error.Message, Does.Contain("tensor 'a\\u000ab'").And.Not.Contain('\n'));
    }

    [Test]
    public void AMissingFileIsAWeightFileError()
    {
        string path = Path.Combine(folder, "absent.safetensors");
        WeightFileException error = Assert.Throws<WeightFileException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(error.Message, Does.StartWith(path).And.Contain("cannot open"));
    }

    private static IEnumerable<TestCaseData> MalformedFiles()
    {
        const string A = """ "a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]} """;

        yield return Case("shorter than the length prefix", [1, 2, 3, 4, 5], "the file is 5 bytes, shorter than the 8-byte header length");
        yield return Case("header length past the end", SafetensorsBytes.WithHeaderLength(1000, "{}"u8.ToArray(), []), "header length 1000 runs past the end of the 10-byte file");
        yield return Case("header length over the cap", SafetensorsBytes.WithHeaderLength(1UL << 40, "{}"u8.ToArray(), []), "exceeds the 100000000-byte limit");
        yield return Case("header not UTF-8", SafetensorsBytes.File([(byte)'{', 0xFF, (byte)'}'], []), "header is not valid UTF-8");
        yield return Case("header truncated", SafetensorsBytes.File("""{"a":{"dtype":"F32" """), "header is not valid JSON");
        yield return Case("content after the header object", SafetensorsBytes.File("{} {}"), "is invalid after a single JSON value");
        yield return Case("header is an array", SafetensorsBytes.File("[]"), "header is an array, not a JSON object");
        yield return Case("header is null", SafetensorsBytes.File("null"), "header is null, not a JSON object");
        yield return Case("lone surrogate in a name", SafetensorsBytes.File("""{"\ud800":{}}"""), "header has a string that is not valid Unicode");
        yield return Case("entry is a number", SafetensorsBytes.File("""{"a":42}"""), "entry is a number, not an object", "a");
        yield return Case("missing dtype", SafetensorsBytes.File("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4), "missing field 'dtype'", "a");
        yield return Case("missing shape", SafetensorsBytes.File("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4), "missing field 'shape'", "a");
        yield return Case("missing data_offsets", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1]}}""", 4), "missing field 'data_offsets'", "a");
        yield return Case("extra field", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}}""", 4), "unexpected field 'offset'", "a");
        yield return Case("field given twice", SafetensorsBytes.File("""{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4), "field 'dtype' appears twice", "a");
        yield return Case("dtype is a number", SafetensorsBytes.File("""{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}""", 4), "dtype is a number, not a string", "a");
        yield return Case("unknown dtype", SafetensorsBytes.File("""{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}}""", 4), "unknown dtype 'F128'", "a");
        yield return Case("dtype in lower case", SafetensorsBytes.File("""{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", 4), "unknown dtype 'f32'", "a");
        yield return Case("shape is a string", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}""", 4), "shape is a string, not an array", "a");
        yield return Case("negative dimension", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "shape dimension -1 is negative", "a");
        yield return Case("fractional dimension", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}""", 4), "shape dimension 2.5 is not an integer", "a");
        yield return Case("dimension as a string", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}""", 4), "shape dimension is a string, not an integer", "a");
        yield return Case("dimension past int32", SafetensorsBytes.File("""{"a":{"dtype":"U8","shape":[4294967296],"data_offsets":[0,4]}}""", 4), "shape dimension 4294967296 exceeds 2147483647", "a");
        yield return Case("element count overflows", SafetensorsBytes.File("""{"a":{"dtype":"U8","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,0]}}"""), "shape [2147483647,2147483647,2147483647] has too many elements to address", "a");
        yield return Case("data_offsets is a number", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":4}}""", 4), "data_offsets is a number, not an array", "a");
        yield return Case("three data_offsets", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}""", 4), "data_offsets holds 3 values, not 2", "a");
        yield return Case("negative begin", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 4), "data_offsets begin -4 is negative", "a");
        yield return Case("end as a string", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}""", 4), "data_offsets end is a string, not an integer", "a");
        yield return Case("end past uint64", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}""", 4), "data_offsets end 99999999999999999999 is too large", "a");
        yield return Case("begin after end", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 8), "data_offsets begin 8 is after end 4", "a");
        yield return Case("end past the data", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4), "data_offsets [0, 8] reach past the end of the 4-byte data section", "a");
        yield return Case("byte length does not match the shape", SafetensorsBytes.File("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8), "data_offsets cover 8 bytes but a F32 tensor of shape [3] needs 12", "a");
        yield return Case("overlapping tensors", SafetensorsBytes.File(Members(A, """ "b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]} """), 4), "data_offsets [2, 4] overlap tensor 'a' at [0, 4]", "b");
        yield return Case("gap between tensors", SafetensorsBytes.File(Members(A, """ "b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]} """), 12), "bytes [4, 8) of the data section belong to no tensor");
        yield return Case("bytes after the last tensor", SafetensorsBytes.File(Members(A), 8), "the last 4 bytes of the 8-byte data section belong to no tensor");
        yield return Case("tensor name given twice", SafetensorsBytes.File(Members(A, A), 4), "the name appears twice in the header", "a");
        yield return Case("metadata is an array", SafetensorsBytes.File("""{"__metadata__":["x"]}"""), "'__metadata__' is an array, not an object of strings");
        yield return Case("metadata value is a number", SafetensorsBytes.File("""{"__metadata__":{"epoch":3}}"""), "metadata value for 'epoch' is a number, not a string");
        yield return Case("metadata key given twice", SafetensorsBytes.File("""{"__metadata__":{"k":"1","k":"2"}}"""), "metadata key 'k' appears twice");
        yield return Case("metadata given twice", SafetensorsBytes.File("""{"__metadata__":{},"__metadata__":{}}"""), "'__metadata__' appears twice in the header");
    }

    private static string Members(params string[] members) => "{" + string.Join(",", members) + "}";

    private static TestCaseData Case(string name, byte[] bytes, string expected, string? tensor = null) =>
        new TestCaseData(bytes, expected, tensor).SetArgDisplayNames(name);
}
