using System.IO.Compression;
using System.Security.Cryptography;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Runtime;

namespace ReClip.Tests.Model;

/// <summary>
/// A class token read from the forms ReCLIP++'s comes in: one parameter saved alone by PyTorch (as utils/cls_token.pt),
/// a safetensors file of one tensor, or a checkpoint that holds a cls_token among other tensors; anything else refused
/// with the file named.
/// </summary>
[TestFixture]
public sealed class ClassTokenFileTests
{
    private const string BareParameter = "bare_parameter.pt";
    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-class-token-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void ReadsAParameterThatPyTorchSavedAlone()
    {
        float[] token = ClassTokenFile.Read(TorchFixtures.PathOf(BareParameter), 8);
        ExpectedTensor expected = TorchFixtures.Checkpoint(BareParameter).Tensors.Single();
        Assert.Multiple(() =>
        {
            Assert.That(expected.Shape, Is.EqualTo(new[] { 1, 1, 8 }));
            Assert.That(token.Select(v => (long)BitConverter.SingleToUInt32Bits(v)), Is.EqualTo(expected.Elements));
        });
    }

    [Test]
    public void DigestIsTheSha256OfTheStoredBytes()
    {
        // The spec identifies the authors' token by the SHA-256 of its 3072 data bytes; the same digest must come out of the values.
        using ZipArchive archive = ZipFile.OpenRead(TorchFixtures.PathOf(BareParameter));
        ZipArchiveEntry storage = archive.Entries.Single(e => e.FullName.EndsWith("/data/0", StringComparison.Ordinal));
        using var bytes = new MemoryStream();
        using (Stream stream = storage.Open())
            stream.CopyTo(bytes);
        string expected = "sha256 " + Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));

        Assert.That(ClassTokenFile.Digest(ClassTokenFile.Read(TorchFixtures.PathOf(BareParameter), 8)), Is.EqualTo(expected));
    }

    [Test]
    public void TakesTheTensorNamedClassTokenFromACheckpoint()
    {
        string path = Write("model.safetensors", ("vit.cls_token", [1, 1, 4], [1, 2, 3, 4]), ("decoder.weight", [4], [9, 9, 9, 9]));
        Assert.That(ClassTokenFile.Read(path, 4), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void RefusesATokenOfAnotherWidth()
    {
        var error = Assert.Throws<WeightFileException>(() => ClassTokenFile.Read(TorchFixtures.PathOf(BareParameter), 768));
        Assert.That(error!.Message, Does.Contain(BareParameter).And.Contain("[1,1,8]").And.Contain("has 768"));
    }

    [Test]
    public void RefusesAFileWithoutAClassToken()
    {
        string path = Write("two.safetensors", ("a", [4], [1, 2, 3, 4]), ("b", [4], [5, 6, 7, 8]));
        var error = Assert.Throws<WeightFileException>(() => ClassTokenFile.Read(path, 4));
        Assert.That(error!.Message, Does.StartWith(path).And.Contain("2 tensors, and none named cls_token"));
    }

    [Test]
    public void RefusesANonFiniteToken()
    {
        string path = Write("nan.safetensors", ("cls_token", [4], [1, float.NaN, 3, 4]));
        var error = Assert.Throws<WeightFileException>(() => ClassTokenFile.Read(path, 4));
        Assert.That(error!.Message, Does.StartWith(path).And.Contain("cls_token"));
    }

    [Test]
    public void RefusesAnIntegerTensor()
    {
        string path = Path.Combine(folder, "ints.safetensors");
        using (Tensor ints = Tensor.FromSpan<int>([1, 2, 3, 4], [4]))
            SafetensorsWriter.Write(path, [KeyValuePair.Create("cls_token", ints)]);
        var error = Assert.Throws<WeightFileException>(() => ClassTokenFile.Read(path, 4));
        Assert.That(error!.Message, Does.Contain("not a floating-point class token"));
    }

    private string Write(string name, params (string Name, int[] Shape, float[] Values)[] tensors)
    {
        string path = Path.Combine(folder, name);
        Tensor[] made = [.. tensors.Select(t => Tensor.FromSpan<float>(t.Values, t.Shape))];
        try
        {
            SafetensorsWriter.Write(path, tensors.Select((t, i) => KeyValuePair.Create(t.Name, made[i])));
        }
        finally
        {
            foreach (Tensor t in made) t.Dispose();
        }
        return path;
    }
}
