using System.Text.Json;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

[TestFixture]
public sealed class BenchCommandTests
{
    [Test]
    public void TinySizesRunAndTheJsonHoldsEveryFigure()
    {
        ReclipProcess.Result result = ReclipProcess.Run("bench", "--device", "cpu", "--size", "32", "--train-size", "48", "--classes", "2", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement root = report.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("device").GetString(), Is.EqualTo("cpu"));
            Assert.That(root.GetProperty("weights").GetString(), Does.Contain("ViT-B/16"));
            Assert.That(root.GetProperty("size").GetInt32(), Is.EqualTo(32));
            Assert.That(root.GetProperty("training_size").GetInt32(), Is.EqualTo(48));
            Assert.That(root.GetProperty("classes").GetInt32(), Is.EqualTo(2));
            Assert.That(root.GetProperty("threads").GetInt32(), Is.Positive);
            foreach (string rate in new[] { "segmentation_images_per_second", "training_steps_per_second", "sgemm_gflops", "fma_gflops" })
                Assert.That(root.GetProperty(rate).GetDouble(), Is.Positive, rate);
            Assert.That(root.GetProperty("percent_of_fma").GetDouble(),
                Is.EqualTo(100 * root.GetProperty("sgemm_gflops").GetDouble() / root.GetProperty("fma_gflops").GetDouble()).Within(1e-9));
            Assert.That(root.GetProperty("sgemm_size").GetInt32(), Is.Positive);
            Assert.That(root.GetProperty("clock_source").GetString(), Is.Not.Empty);
            JsonElement peak = root.GetProperty("peak_gflops"), percent = root.GetProperty("percent_of_peak");
            // Both known or both unknown: the share needs the peak.
            Assert.That(percent.ValueKind, Is.EqualTo(peak.ValueKind));
            if (peak.ValueKind == JsonValueKind.Number)
                Assert.That(percent.GetDouble(), Is.EqualTo(100 * root.GetProperty("sgemm_gflops").GetDouble() / peak.GetDouble()).Within(1e-9));
        });
    }

    [TestCase("--classes", "1", "--classes must be at least 2")]
    [TestCase("--size", "0", "--size must be at least 1")]
    [TestCase("--train-size", "0", "--train-size must be at least 1")]
    [TestCase("--batch", "0", "--batch must be at least 1")]
    [TestCase("--deadline", "0", "--deadline must be at least 1")]
    [TestCase("--device", "tpu", "unknown device 'tpu'")]
    public void BadArgumentExitsWithBadInput(string option, string value, string expected)
    {
        ReclipProcess.Result result = ReclipProcess.Run("bench", option, value);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain(expected));
    }

    [Test]
    public void CudaWithoutADriverFailsWithTheReason()
    {
        if (ReClip.Runtime.Cuda.CudaDriver.IsAvailable)
            Assert.Ignore("a CUDA driver loads here; the GPU bench runs in tools/gpu/run.sh");
        ReclipProcess.Result result = ReclipProcess.Run("bench", "--device", "cuda", "--size", "32", "--batch", "1");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1).And.Some.Contains("not available"));
    }

    [Test]
    public void GpuJsonHasTheNamesTheGpuScriptReads()
    {
        var result = new ReClip.Model.Benchmarks.GpuBenchmarkResult("cuda:0: card", "weights", 224, 336, 64, 20, 1, 2, 3, 4, 0.01, 5, 6, 4096, 7,
            [new ReClip.Runtime.Cuda.KernelTime("attention_forward", 12, 1.5)], [new ReClip.Runtime.Cuda.KernelTime("bfloat16_convert", 48, 0.5)], [new ReClip.Runtime.Cuda.KernelTime("rectify_forward", 1, 0.1)],
            34.7e9, 35.1e9, ReClip.Model.Benchmarks.GpuPeak.Of("NVIDIA H100 80GB HBM3"),
            [new ReClip.Model.Benchmarks.MemoryBoundRate("LayerNorm, float32 to float32", "12608×768", 7.7e7, 0.03)], 8, 0, null,
            [new ReClip.Runtime.Cuda.KernelTime("conv2d_forward", 1, 0.2)], 9, new ReClip.Model.Benchmarks.SegmentationPhases(1, 2, 3),
            new ReClip.Model.Benchmarks.GpuOptionRates(10, 11, 12, 0, 13, 14, 2e-3, 15, ["overlapped towers, parity: a reason"]));
        using JsonDocument report = JsonDocument.Parse(JsonSerializer.Serialize(result, ReClip.Cli.CliJson.Output.GpuBenchmarkResult));
        // The keys tools/gpu/compare_bench.py reads.
        string[] keys = ["batch", "size", "training_size", "classes", "dense_images_per_second", "pooled_images_per_second", "dense_b_float16_images_per_second",
            "pooled_b_float16_images_per_second", "dense_b_float16_deviation", "segmentation_images_per_second",
            "training_steps_per_second", "gemm_size", "gemm_gflops", "dense_kernel_times", "dense_b_float16_kernel_times", "training_step_kernel_times",
            "dense_flops_per_image", "pooled_flops_per_image", "peak", "memory_bound", "training_eager_steps_per_second", "training_graph_deviation",
            "training_graph_failure", "segmentation_kernel_times", "training_b_float16_steps_per_second", "segmentation_phases", "options"];
        Assert.That(keys.Where(key => !report.RootElement.TryGetProperty(key, out _)), Is.Empty);
        JsonElement kernel = report.RootElement.GetProperty("dense_kernel_times")[0];
        Assert.That(new[] { "name", "calls", "milliseconds" }.Where(key => !kernel.TryGetProperty(key, out _)), Is.Empty);
        JsonElement peak = report.RootElement.GetProperty("peak");
        Assert.That(new[] { "card", "float32_tera_flops", "b_float16_tera_flops", "memory_gigabytes_per_second" }.Where(key => !peak.TryGetProperty(key, out _)), Is.Empty);
        JsonElement options = report.RootElement.GetProperty("options");
        Assert.That(new[] { "dense_b_float16_tuned_images_per_second", "training_tuned_steps_per_second", "training_overlap_steps_per_second",
            "training_overlap_deviation", "training_tensor_float32_steps_per_second", "training_tensor_float32_b_float16_steps_per_second",
            "training_tensor_float32_deviation", "training_fastest_steps_per_second", "failures" }.Where(key => !options.TryGetProperty(key, out _)), Is.Empty);
        JsonElement phases = report.RootElement.GetProperty("segmentation_phases");
        Assert.That(new[] { "encode_milliseconds", "logits_milliseconds", "upsampling_milliseconds" }.Where(key => !phases.TryGetProperty(key, out _)), Is.Empty);
        JsonElement rate = report.RootElement.GetProperty("memory_bound")[0];
        Assert.That(new[] { "kernel", "shape", "milliseconds_per_call", "gigabytes_per_second" }.Where(key => !rate.TryGetProperty(key, out _)), Is.Empty);
        Assert.That(rate.GetProperty("gigabytes_per_second").GetDouble(), Is.EqualTo(7.7e7 / 0.03e6).Within(1e-6), "bytes over milliseconds·1e6");
        Assert.That(report.RootElement.GetProperty("dense_b_float16_mfu").GetDouble(), Is.EqualTo(3 * 34.7e9 / 989.4e12).Within(1e-15));
    }

    [Test]
    public void GpuBenchmarkRefusesTheCpu() =>
        Assert.That(() => ReClip.Model.Benchmarks.GpuBenchmark.Run(ReClip.Runtime.Tensors.Device.Cpu, 32, 32, 1, 2, TimeSpan.Zero),
            Throws.ArgumentException.With.Message.Contains("--device cpu"));
}
