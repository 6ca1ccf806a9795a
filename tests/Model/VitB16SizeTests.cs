using System.Diagnostics;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>
/// Both towers at ViT-B/16's sizes (vision 768 / 12 layers / 12 heads / 224 px, text 512 / 12 layers / 77 / 49408):
/// tools/reference/clip_ref.py --vit-b16 writes random f16-exact weights (~300 MB) and its float64 results into a
/// temporary folder. Runs only where /usr/bin/python3 imports torch; skipped otherwise.
/// </summary>
[TestFixture]
[Category("Slow")]
public sealed class VitB16SizeTests
{
    /// <summary>Unit-norm features after 12 f32 blocks: ~1e-6 measured; 1e-4 as for the tiny model.</summary>
    private const double FeatureTolerance = 1e-4;

    /// <summary>Shared prefix vs plain (same operations, different GEMM blocking).</summary>
    private const double SharedTolerance = 1e-5;

    /// <summary>The context gradient through 12 blocks' backward in f32, relative to its largest element.</summary>
    private const double GradientTolerance = 1e-4;

    private string folder = "";
    private SafetensorsFile dumps = null!;
    private ClipWeights weights = null!;

    [OneTimeSetUp]
    public void Generate()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python) || Run(python, "-c \"import torch\"", TimeSpan.FromMinutes(1)) != 0)
            Assert.Ignore("PyTorch is not importable by /usr/bin/python3");
        string script = FindScript();
        folder = Directory.CreateTempSubdirectory("reclip-vitb16-").FullName;
        int code = Run(python, $"\"{script}\" --vit-b16 \"{folder}\"", TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, "clip_ref.py --vit-b16");
        dumps = SafetensorsFile.Open(Path.Combine(folder, "dumps.safetensors"));
        weights = ClipWeights.Load(Path.Combine(folder, "weights.safetensors"));
    }

    [OneTimeTearDown]
    public void Remove()
    {
        weights?.Dispose();
        dumps?.Dispose();
        if (folder.Length > 0) Directory.Delete(folder, recursive: true);
    }

    [Test]
    public void ConfigIsViTB16()
    {
        Assert.That(weights.Config, Is.EqualTo(new ClipConfig(768, 12, 16, 14, 512, 12, 77, 49408, 512)));
        Assert.That(weights.Config.VisionHeads, Is.EqualTo(12));
        Assert.That(weights.Config.TextHeads, Is.EqualTo(8));
        Assert.That(weights.Config.StartToken, Is.EqualTo(49406));
    }

    [Test]
    public void PooledAndDenseMatch()
    {
        using Tensor image = Load("image");
        using Tensor pooled = new VisionTransformer(weights).Encode(image);
        Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(pooled.ToFloatArray(), 512), ClipFixture.NormalizeRows(Values("pooled"), 512)),
            Is.LessThan(FeatureTolerance));
        using Tensor odd = Load("image_odd");
        using DenseFeatures dense = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps).EncodeDense(odd);
        Assert.That((dense.Rows, dense.Columns), Is.EqualTo((15, 13)));
        Assert.That(ClipFixture.MaxAbs(dense.Features.ToFloatArray(), Values("dense_odd")), Is.LessThan(FeatureTolerance));
        Assert.That(ClipFixture.MaxAbs(dense.PositionalGrid.ToFloatArray(), Values("dense_odd.grid")), Is.LessThan(1e-5));
    }

    [Test]
    public void TextPromptAndGradientMatch()
    {
        var text = new TextTransformer(weights);
        using (Tensor ids = Load("text_ids"))
        using (Tensor features = text.Encode(ids.AsSpan<int>()))
            Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(features.ToFloatArray(), 512), ClipFixture.NormalizeRows(Values("text"), 512)),
                Is.LessThan(FeatureTolerance));
        using Tensor context = Load("prompt_context");
        using Tensor slots = Load("prompt_slots");
        using Tensor target = Load("prompt_target");
        using PromptActivations forward = text.ForwardPrompt(context, slots.AsSpan<int>(), 3);
        Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(forward.Features.ToFloatArray(), 512), ClipFixture.NormalizeRows(Values("prompt_features"), 512)),
            Is.LessThan(FeatureTolerance));
        using (Tensor shared = text.EncodePromptShared(context, slots.AsSpan<int>(), 3))
            Assert.That(ClipFixture.MaxRelative(shared.ToFloatArray(), forward.Features.ToFloatArray()), Is.LessThan(SharedTolerance));
        using Tensor gradient = text.BackwardPrompt(forward, target);
        Assert.That(ClipFixture.MaxRelative(gradient.ToFloatArray(), Values("prompt_context_grad")), Is.LessThan(GradientTolerance));
        using SharedPromptActivations sharedForward = text.ForwardPromptShared(context, slots.AsSpan<int>(), 3);
        using Tensor sharedGradient = text.BackwardPromptShared(sharedForward, target);
        Assert.That(ClipFixture.MaxRelative(sharedGradient.ToFloatArray(), gradient.ToFloatArray()), Is.LessThan(SharedTolerance));
    }

    private Tensor Load(string name)
    {
        using Tensor t = dumps.Load(name);
        return t.Clone();
    }

    private float[] Values(string name)
    {
        using Tensor t = dumps.Load(name);
        return t.ToFloatArray();
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tools", "reference", "clip_ref.py");
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Ignore("tools/reference/clip_ref.py is not above the test binaries");
        return "";
    }

    private static int Run(string file, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        const string openBlas = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
        if (Directory.Exists(openBlas)) start.Environment["LD_LIBRARY_PATH"] = openBlas;
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return -1;
        }
        TestContext.Out.WriteLine(output.Result + error.Result);
        return process.ExitCode;
    }
}
