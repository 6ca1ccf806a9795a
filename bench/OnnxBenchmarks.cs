using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.ML.OnnxRuntime;
using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// Our MaskCLIP dense image path (<see cref="VisionTransformer.EncodeDense"/>, what ReCLIP++ runs) against ONNX
/// Runtime's CPU execution provider on the same random ViT-B/16 weights (<see cref="OnnxModels"/>), 224/336/448 px,
/// batch 1 and 8. The Ratio column is ONNX Runtime's time over ours (> 1: we are faster); "Max |Δ|" is the largest
/// absolute difference between the two outputs (unit-norm 512-d patch embeddings). Writes bench/results/onnx.json.
/// Run: dotnet run -c Release --project bench -- --filter *OnnxBenchmarks*
/// </summary>
[Config(typeof(OnnxComparisonConfig))]
public class OnnxBenchmarks
{
    private Tensor? images;
    private VisionTransformer? vision;
    private InferenceSession? session;
    private OrtValue? input;
    private RunOptions? run;

    [Params(224, 336, 448)]
    public int Size { get; set; }

    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>
    /// Ours: also runs ONNX Runtime once on the same images and records the outputs' largest difference for the
    /// column; its session is closed before ours is timed, so none of its threads is left spinning.
    /// </summary>
    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs()
    {
        SetupOnnxRuntime();
        vision = new VisionTransformer(ClipCases.Weights, ResidualBlock.MaskClipVisualEps);
        using (DenseFeatures ours = vision.EncodeDense(images!))
        using (IDisposableReadOnlyCollection<OrtValue> theirs = RunOnnxRuntime())
            OnnxDifferences.Record(Size, Batch, LargestDifference(ours.Features.AsSpan<float>(), theirs[0].GetTensorDataAsSpan<float>()));
        CloseOnnxRuntime();
    }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        OnnxModels.Ensure();
        images = RandomInputs.Images(Batch, Size);
        session = OnnxModels.Open(Size);
        input = OrtValue.CreateTensorValueFromMemory(images.AsSpan<float>().ToArray(), [Batch, 3, Size, Size]);
        run = new RunOptions();
    }

    [Benchmark(Baseline = true)]
    public void Ours() => vision!.EncodeDense(images!).Dispose();

    [Benchmark]
    public void OnnxRuntime() => RunOnnxRuntime().Dispose();

    [GlobalCleanup]
    public void Cleanup()
    {
        CloseOnnxRuntime();
        images?.Dispose();
        images = null;
    }

    private void CloseOnnxRuntime()
    {
        run?.Dispose();
        input?.Dispose();
        session?.Dispose();
        (run, input, session) = (null, null, null);
    }

    private static float LargestDifference(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs)
    {
        if (ours.Length != theirs.Length)
            throw new InvalidOperationException($"ONNX Runtime returned {theirs.Length} values where ours has {ours.Length}");
        float largest = 0;
        for (int i = 0; i < ours.Length; i++)
            largest = MathF.Max(largest, MathF.Abs(ours[i] - theirs[i]));
        return largest;
    }

    private IDisposableReadOnlyCollection<OrtValue> RunOnnxRuntime() => session!.Run(run, ["image"], [input!], ["features"]);
}

/// <summary>
/// Whole encoders take up to tens of seconds at 448 px, batch 8: two warm-up and three measured calls each, one call
/// per iteration (with one warm-up, our first measured calls still ran partly on tier-0 code while the JIT's
/// background thread competed for the two cores: 1.3 s of spread on a 0.3 s case), in this process (no generated project to build; each case's cleanup closes what it opened, and our
/// random weights are made once for all cases).
/// </summary>
public sealed class OnnxComparisonConfig : ManualConfig
{
    /// <summary>
    /// The in-process toolchain gives up on a case after 5 minutes by default; on a loaded machine ONNX Runtime's
    /// spinning threads took 2 minutes for one call at 336 px, batch 8.
    /// </summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromHours(1);

    public OnnxComparisonConfig()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(CaseTimeout, logOutput: true)).WithWarmupCount(2).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new OnnxDifferenceColumn());
        AddExporter(new OnnxResultsExporter());
    }
}

/// <summary>Where the benchmark processes leave each case's largest output difference for the host's column and exporter.</summary>
public static class OnnxDifferences
{
    public static void Record(int size, int batch, float difference) =>
        File.WriteAllText(PathOf(size, batch), difference.ToString("R", CultureInfo.InvariantCulture));

    public static double Read(BenchmarkCase benchmarkCase) => Read(Parameter(benchmarkCase, "Size"), Parameter(benchmarkCase, "Batch"));

    public static int Parameter(BenchmarkCase benchmarkCase, string name) => (int)benchmarkCase.Parameters[name];

    public static double Read(int size, int batch) =>
        File.Exists(PathOf(size, batch)) ? double.Parse(File.ReadAllText(PathOf(size, batch)), CultureInfo.InvariantCulture) : double.NaN;

    private static string PathOf(int size, int batch) => Path.Combine(OnnxModels.Folder, $"max-abs-difference-{size}-b{batch}.txt");
}
