using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ReClip.Model.Benchmarks;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Bench;

/// <summary>
/// The ONNX exports of the random ViT-B/16 image tower (MaskCLIP dense path) that ONNX Runtime runs, in
/// artifacts/onnx/ (ignored by git, ~330 MiB each). Made when missing: the image tower of <see cref="RandomClipFile"/>
/// is written as safetensors, then tools/reference/export_onnx.py traces one model per input size from it, so both
/// runtimes compute with the same weights.
/// </summary>
public static class OnnxModels
{
    public static IReadOnlyList<int> Sizes { get; } = [224, 336, 448];

    private const string Python = "/usr/bin/python3";

    // The OpenMP OpenBLAS, as compare.sh sets it: Debian's torch is slow with the pthread one.
    private const string OpenBlasOpenMp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

    public static string Folder => Path.Combine(RepositoryRoot, "artifacts", "onnx");

    public static string PathOf(int size) => Path.Combine(Folder, $"maskclip-dense-{size}.onnx");

    /// <summary>Writes whatever of the weights and the models is missing.</summary>
    public static void Ensure()
    {
        if (Sizes.All(size => File.Exists(PathOf(size))))
            return;
        Directory.CreateDirectory(Folder);
        string weights = Path.Combine(Folder, "random-vit-b16-visual.safetensors");
        if (!File.Exists(weights))
            WriteImageTower(weights);
        var start = new ProcessStartInfo(Python) { UseShellExecute = false };
        start.Environment["LD_LIBRARY_PATH"] = OpenBlasOpenMp;
        foreach (string argument in (string[])[Path.Combine(RepositoryRoot, "tools", "reference", "export_onnx.py"), "--weights", weights, "--out-dir", Folder, "--sizes"])
            start.ArgumentList.Add(argument);
        foreach (int size in Sizes)
            start.ArgumentList.Add(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using Process export = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        export.WaitForExit();
        if (export.ExitCode != 0)
            throw new InvalidOperationException($"tools/reference/export_onnx.py failed with exit code {export.ExitCode}; it needs PyTorch at {Python}");
    }

    /// <summary>A CPU session with one intra-op thread per core, as our compute pool has (RECLIP_THREADS aside).</summary>
    public static InferenceSession Open(int size)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(PathOf(size), options);
    }

    private static void WriteImageTower(string path)
    {
        using var file = new RandomClipFile();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (WeightEntry entry in file.Entries.Where(e => e.Name.StartsWith("visual.", StringComparison.Ordinal)))
                tensors.Add(new(entry.Name, file.Load(entry.Name)));
            SafetensorsWriter.Write(path, tensors);
        }
        finally
        {
            tensors.ForEach(pair => pair.Value.Dispose());
        }
    }

    /// <summary>The checkout this bench was built from: BenchmarkDotNet runs copies of it from deep inside bin/.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "ReCLIP.sln")))
                    return folder.FullName;
            throw new InvalidOperationException($"no ReCLIP.sln above {AppContext.BaseDirectory}: run the bench from its checkout");
        }
    }
}
