using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Runtime;

/// <summary>Every checkpoint that PyTorch 1.13 wrote in tools/reference/make_checkpoints.py loads exactly as PyTorch holds it.</summary>
[TestFixture]
public sealed class TorchCheckpointTests
{
    private const string TorchScriptFile = "torchscript_clip.pt";

    private static IEnumerable<string> CheckpointFiles() => TorchFixtures.Index.Checkpoints.Select(c => c.File);

    [TestCaseSource(nameof(CheckpointFiles))]
    public void ListsEveryTensorWithItsDTypeAndShape(string file)
    {
        ExpectedCheckpoint expected = TorchFixtures.Checkpoint(file);
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf(file));

        Assert.That(checkpoint.Entries.Select(e => e.Name), Is.EquivalentTo(expected.Tensors.Select(t => t.Name)));
        foreach (ExpectedTensor tensor in expected.Tensors)
        {
            WeightEntry entry = checkpoint.Entries.Single(e => e.Name == tensor.Name);
            Assert.Multiple(() =>
            {
                Assert.That(entry.DType.Name(), Is.EqualTo(tensor.DType), tensor.Name);
                Assert.That(entry.Shape, Is.EqualTo(tensor.Shape), tensor.Name);
                Assert.That(checkpoint.Contains(tensor.Name), Is.True, tensor.Name);
            });
        }
    }

    [TestCaseSource(nameof(CheckpointFiles))]
    public void LoadsEveryTensorBitForBit(string file)
    {
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf(file));
        foreach (ExpectedTensor expected in TorchFixtures.Checkpoint(file).Tensors)
        {
            using Tensor tensor = checkpoint.Load(expected.Name);
            Assert.Multiple(() =>
            {
                Assert.That(tensor.DType.Name(), Is.EqualTo(expected.DType), expected.Name);
                Assert.That(tensor.Shape.ToArray(), Is.EqualTo(expected.Shape), expected.Name);
                Assert.That(tensor.IsContiguous, Is.True, expected.Name);
                Assert.That(TorchFixtures.Elements(tensor), Is.EqualTo(expected.Elements), expected.Name);
            });
        }
    }

    [Test]
    public void TorchScriptArchiveIsNamedLikeTheModuleStateDict()
    {
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf(TorchScriptFile));
        string[] names = [.. checkpoint.Entries.Select(e => e.Name)];

        Assert.Multiple(() =>
        {
            Assert.That(names, Does.Contain("visual.transformer.resblocks.0.attn.in_proj_weight"));
            Assert.That(names, Does.Contain("visual.positional_embedding"));
            Assert.That(names, Does.Contain("input_resolution"));
            Assert.That(names.Where(n => n.Contains("attn_mask", StringComparison.Ordinal)), Is.Empty, "tracing makes attn_mask a constant, not a state-dict entry");
            Assert.That(checkpoint.Entries.Single(e => e.Name == "visual.conv1.weight").DType, Is.EqualTo(DType.F16));
            Assert.That(checkpoint.Entries.Single(e => e.Name == "visual.ln_pre.weight").DType, Is.EqualTo(DType.F32));
        });
    }

    [Test]
    public void OpenClipWrapperExposesOnlyTheStateDictWithoutModulePrefix()
    {
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf("open_clip_wrapped.pt"));
        string[] names = [.. checkpoint.Entries.Select(e => e.Name)];

        Assert.That(names, Is.EquivalentTo(new[] { "embed.weight", "fc.weight", "fc.bias", "norm.weight", "norm.bias", "conv.weight" }));
    }

    [Test]
    public unsafe void ContiguousTensorsPointIntoTheMappedFile()
    {
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf("state_dict_f32.pt"));
        using Tensor first = checkpoint.Load("extra.base");
        using Tensor second = checkpoint.Load("extra.row_slice");

        Assert.That((nint)second.RawPointer - (nint)first.RawPointer, Is.EqualTo((nint)(5 * sizeof(float))), "row 1 of the shared storage, not a copy");
    }

    [Test]
    public void WritingIntoAZeroCopyTensorLeavesTheFileAlone()
    {
        string path = TorchFixtures.PathOf("state_dict_f32.pt");
        byte[] before = File.ReadAllBytes(path);
        using (TorchCheckpoint checkpoint = TorchCheckpoint.Open(path))
        using (Tensor weight = checkpoint.Load("extra.base"))
            weight.AsSpan<float>().Fill(42);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
    }

    [Test]
    public void LoadedTensorOutlivesTheCheckpoint()
    {
        ExpectedTensor expected = TorchFixtures.Checkpoint("state_dict_f16.pt").Tensors[0];
        Tensor tensor;
        using (TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf("state_dict_f16.pt")))
            tensor = checkpoint.Load(expected.Name);
        using (tensor)
            Assert.That(TorchFixtures.Elements(tensor), Is.EqualTo(expected.Elements));
    }

    [Test]
    public void Int64OutsideInt32IsAnErrorNamingTheTensor()
    {
        string path = TorchFixtures.PathOf("int64_out_of_range.pt");
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(path);
        using Tensor small = checkpoint.Load("small");

        var error = Assert.Throws<WeightFileException>(() => checkpoint.Load("big").Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(small.AsSpan<int>().ToArray(), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(error.FilePath, Is.EqualTo(path));
            Assert.That(error.TensorName, Is.EqualTo("big"));
            Assert.That(error.Message, Does.Contain("1099511627776"));
        });
    }

    [Test]
    public void UnknownTensorNameIsAnError()
    {
        using TorchCheckpoint checkpoint = TorchCheckpoint.Open(TorchFixtures.PathOf("state_dict_f32.pt"));

        var error = Assert.Throws<WeightFileException>(() => checkpoint.Load("no.such.weight").Dispose());
        Assert.That(error.TensorName, Is.EqualTo("no.such.weight"));
    }
}
