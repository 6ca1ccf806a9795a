using BenchmarkDotNet.Attributes;

namespace ReClip.Bench;

/// <summary>BenchmarkDotNet suite over the comparison's SGEMM cases (run: dotnet run -c Release --project bench -- --filter *Sgemm*).</summary>
[MemoryDiagnoser]
public class SgemmBenchmarks
{
    private ICompareCase? workload;

    [Params("sgemm_2048", "sgemm_vit224_qkv", "sgemm_vit224_fc1", "sgemm_vit224_fc2", "sgemm_vit336_qkv", "sgemm_vit336_fc1", "sgemm_vit336_fc2")]
    public string Case { get; set; } = "";

    [GlobalSetup]
    public void Setup() => workload = CompareCases.Create(Case);

    [Benchmark]
    public void Run() => workload!.Run();

    [GlobalCleanup]
    public void Cleanup() => workload?.Dispose();
}
