using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>Head checkpoints: an exact round trip of every stored tensor, and one clear error per kind of bad file.</summary>
[TestFixture]
public sealed class HeadCheckpointTests
{
    private static readonly string[] Names = ["sky", "grass", "boat", "car"];
    private string folder = null!;
    private ClipWeights weights = null!;
    private ReClipStepFixture step = null!;

    [OneTimeSetUp]
    public void Open()
    {
        folder = Path.Combine(Path.GetTempPath(), $"reclip-checkpoint-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        step = new ReClipStepFixture();
    }

    [OneTimeTearDown]
    public void Close()
    {
        step.Dispose();
        weights.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private int[] Slots => ReferencePrompt.SlotIds(ReClipStepFixture.NameTokens, weights.Config.EndToken);

    /// <summary>The fixture's head after one SGD step, so the momentum buffers and BatchNorm statistics are non-trivial.</summary>
    private ReClipHead SteppedHead()
    {
        using Tensor query = step.Load("query");
        var head = new ReClipHead(new TextTransformer(weights), query, Slots, weights.Config.VisionWidth, seed: 4);
        using Tensor features = step.Load("features");
        using Tensor grid = step.Load("grid");
        using (head.Step(features, grid, step.Rows, step.Columns, step.Hypotheses(), 0.01f, seed: 1, step: 0)) { }
        return head;
    }

    private string Saved(string name, ReClipHead head, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string path = Path.Combine(folder, name);
        HeadCheckpoint.Save(path, head, Names, weights.Config, metadata ?? new Dictionary<string, string>());
        return path;
    }

    [Test]
    public void RoundTripRestoresEveryTensorExactly()
    {
        using ReClipHead head = SteppedHead();
        string path = Saved("round.safetensors", head, new Dictionary<string, string> { ["note"] = "kept" });
        using HeadCheckpoint checkpoint = HeadCheckpoint.Open(path);
        Assert.That(checkpoint.Classes, Is.EqualTo(Names));
        Assert.That(checkpoint.Metadata["note"], Is.EqualTo("kept"));
        using Tensor query = step.Load("query");
        using ReClipHead restored = checkpoint.CreateHead(new TextTransformer(weights), query, Slots);
        for (int i = 0; i < head.Parameters.Count; i++)
        {
            Assert.That(restored.Parameters[i].Value.ToFloatArray(), Is.EqualTo(head.Parameters[i].Value.ToFloatArray()), head.Parameters[i].Name);
            Assert.That(restored.OptimizerStates[i].HasStepped, Is.True);
            Assert.That(restored.OptimizerStates[i].Buffer!.ToFloatArray(), Is.EqualTo(head.OptimizerStates[i].Buffer!.ToFloatArray()), "momentum of " + head.Parameters[i].Name);
        }
        Assert.That(restored.Decoder.RunningMean.ToFloatArray(), Is.EqualTo(head.Decoder.RunningMean.ToFloatArray()));
        Assert.That(restored.Decoder.RunningVar.ToFloatArray(), Is.EqualTo(head.Decoder.RunningVar.ToFloatArray()));
    }

    [Test]
    public void KeepsTheClassTokenTheHeadWasTrainedWith()
    {
        using Tensor query = step.Load("query");
        using var head = new ReClipHead(new TextTransformer(weights), query, Slots, weights.Config.VisionWidth, seed: 4);
        float[] token = [.. Enumerable.Range(0, weights.Config.VisionWidth).Select(i => 0.25f * i - 1)];
        string path = Path.Combine(folder, "token.safetensors");
        HeadCheckpoint.Save(path, head, Names, weights.Config, new Dictionary<string, string>(), token);
        using HeadCheckpoint withToken = HeadCheckpoint.Open(path);
        using HeadCheckpoint without = HeadCheckpoint.Open(Saved("no-token.safetensors", head));
        Assert.Multiple(() =>
        {
            Assert.That(withToken.ClassToken(weights.Config.VisionWidth), Is.EqualTo(token));
            Assert.That(without.ClassToken(weights.Config.VisionWidth), Is.Null, "CLIP's own token is not stored");
            var error = Assert.Throws<InvalidDataException>(() => withToken.ClassToken(weights.Config.VisionWidth + 1));
            Assert.That(error!.Message, Does.StartWith(path).And.Contain(HeadCheckpoint.ClassTokenName));
        });
    }

    [Test]
    public void AFreshHeadHasNoMomentumToSave()
    {
        using Tensor query = step.Load("query");
        using var head = new ReClipHead(new TextTransformer(weights), query, Slots, weights.Config.VisionWidth, seed: 4);
        using HeadCheckpoint checkpoint = HeadCheckpoint.Open(Saved("fresh.safetensors", head));
        using ReClipHead restored = checkpoint.CreateHead(new TextTransformer(weights), query, Slots);
        Assert.That(restored.OptimizerStates.All(s => !s.HasStepped), Is.True);
    }

    [Test]
    public void ReservedMetadataAndWrongClassCountAreRefused()
    {
        using ReClipHead head = SteppedHead();
        Assert.Throws<ArgumentException>(() => Saved("reserved.safetensors", head, new Dictionary<string, string> { ["classes"] = "[]" }));
        Assert.Throws<ArgumentException>(() => HeadCheckpoint.Save(Path.Combine(folder, "count.safetensors"), head, ["sky"], weights.Config, new Dictionary<string, string>()));
    }

    /// <summary>Rewrites a saved checkpoint with one change to its tensors or metadata.</summary>
    private string Tampered(string name, Func<Dictionary<string, Tensor>, Dictionary<string, string>, Action?> change)
    {
        using ReClipHead head = SteppedHead();
        string original = Saved(name + ".orig", head);
        var tensors = new Dictionary<string, Tensor>();
        Dictionary<string, string> metadata;
        using (var file = SafetensorsFile.Open(original))
        {
            foreach (WeightEntry entry in file.Entries)
            {
                using Tensor t = file.Load(entry.Name);
                tensors[entry.Name] = t.Clone();
            }
            metadata = new Dictionary<string, string>(file.Metadata);
        }
        change(tensors, metadata)?.Invoke();
        string path = Path.Combine(folder, name);
        SafetensorsWriter.Write(path, tensors, metadata);
        foreach (Tensor t in tensors.Values) t.Dispose();
        return path;
    }

    private void ExpectRefused(string path, string fragment) => ExpectRefused<InvalidDataException>(path, fragment);

    private void ExpectRefused<TException>(string path, string fragment) where TException : Exception
    {
        using Tensor query = step.Load("query");
        var error = Assert.Throws<TException>(() =>
        {
            using HeadCheckpoint checkpoint = HeadCheckpoint.Open(path);
            using ReClipHead head = checkpoint.CreateHead(new TextTransformer(weights), query, Slots);
        });
        Assert.That(error!.Message, Does.StartWith(path).And.Contain(fragment));
    }

    [Test]
    public void AFileWithoutTheFormatTagIsRefused() =>
        ExpectRefused(Tampered("noformat.safetensors", (_, m) => { m.Remove("format"); return null; }), "not a ReCLIP# head checkpoint");

    [Test]
    public void ABadClassListIsRefused() =>
        ExpectRefused(Tampered("classes.safetensors", (_, m) => { m["classes"] = "[\"sky\",\"sky\"]"; return null; }), "holds \"sky\" more than once");

    [Test]
    public void AMissingTensorIsRefused() =>
        ExpectRefused(Tampered("missing.safetensors", (t, _) => { Tensor gone = t["pe_proj.bias"]; t.Remove("pe_proj.bias"); return gone.Dispose; }), "lacks tensor 'pe_proj.bias'");

    [Test]
    public void ANonFiniteTensorIsRefused() =>
        ExpectRefused<WeightFileException>(Tampered("nan.safetensors", (t, _) => { t["decoder_norm2.weight"].AsSpan<float>()[1] = float.NaN; return null; }), "decoder_norm2.weight");

    [Test]
    public void ANegativeRunningVarianceIsRefused() =>
        ExpectRefused(Tampered("variance.safetensors", (t, _) => { t["decoder_norm2.running_var"].AsSpan<float>()[2] = -1; return null; }),
            "'decoder_norm2.running_var' holds a negative variance (-1) for class 2");

    /// <summary>CLIP's weights or another PyTorch file given as a head: said so, not read as a safetensors header of absurd length.</summary>
    [Test]
    public void APyTorchCheckpointIsNotAHead()
    {
        string path = ClipFixture.PathOf("weights_open_clip.pt");
        var error = Assert.Throws<InvalidDataException>(() => HeadCheckpoint.Open(path).Dispose());
        Assert.That(error!.Message, Is.EqualTo($"{path}: not a ReCLIP# head checkpoint but a PyTorch checkpoint (a head is the safetensors file `reclip train` writes)"));
    }

    [Test]
    public void AFolderIsNotAHead()
    {
        var error = Assert.Throws<WeightFileException>(() => HeadCheckpoint.Open(folder).Dispose());
        Assert.That(error!.Message, Is.EqualTo($"{folder}: is a folder, not a weight file"));
    }

    /// <summary>A long value is shown by its start: the message stays one short line.</summary>
    [Test]
    public void ALongUnknownBiasIsShownCut() =>
        ExpectRefused(Tampered("longbias.safetensors", (_, m) => { m["bias"] = new string('x', 5000); return null; }),
            $"metadata 'bias' is '{new string('x', 24)}…', not one of");

    [Test]
    public void AnUnknownBiasIsRefused() =>
        ExpectRefused(Tampered("bias.safetensors", (_, m) => { m["bias"] = "colour"; return null; }), "metadata 'bias' is 'colour', not one of both, class, space, none");

    /// <summary>Checkpoints from before the ablations have no 'bias': their heads subtract both biases, as they were trained to.</summary>
    [Test]
    public void ACheckpointWithoutABiasSubtractsBoth()
    {
        using HeadCheckpoint checkpoint = HeadCheckpoint.Open(Tampered("nobias.safetensors", (_, m) => { m.Remove("bias"); return null; }));
        Assert.That(checkpoint.BiasForm, Is.EqualTo(BiasForm.Both));
    }

    [TestCase(BiasForm.Both)]
    [TestCase(BiasForm.ClassOnly)]
    [TestCase(BiasForm.SpaceOnly)]
    [TestCase(BiasForm.None)]
    public void KeepsTheBiasTheHeadSubtracts(BiasForm form)
    {
        using Tensor query = step.Load("query");
        using var head = new ReClipHead(new TextTransformer(weights), query, Slots, weights.Config.VisionWidth, seed: 4) { BiasForm = form };
        string path = Saved($"bias-{form}.safetensors", head);

        using HeadCheckpoint checkpoint = HeadCheckpoint.Open(path);
        using ReClipHead restored = checkpoint.CreateHead(new TextTransformer(weights), query, Slots), copy = restored.ToDevice(Device.Cpu);
        Assert.Multiple(() =>
        {
            Assert.That(checkpoint.Metadata["bias"], Is.EqualTo(form.Name()));
            Assert.That(checkpoint.Metadata["format"], Is.EqualTo(form == BiasForm.Both ? "reclip-head/1" : "reclip-head/2"), "older readers refuse an ablation's head");
            Assert.That(restored.BiasForm, Is.EqualTo(form));
            Assert.That(copy.BiasForm, Is.EqualTo(form), "a copy");
        });
    }

    [Test]
    public void AnotherClipSizeIsRefused() =>
        ExpectRefused(Tampered("size.safetensors", (_, m) => { m["embed_dim"] = "512"; return null; }), "embed_dim 512");
}
