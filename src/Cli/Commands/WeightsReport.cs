using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Cli.Commands;

/// <summary>What `reclip info --weights FILE` shows: every tensor the file declares, and the total parameter count.</summary>
public sealed record WeightsReport(string Path, string Format, long Parameters, IReadOnlyList<WeightsReport.Tensor> Tensors)
{
    public sealed record Tensor(string Name, string Dtype, int[] Shape);

    public static WeightsReport Read(string path)
    {
        using IWeightFile file = WeightFiles.Open(path);
        return new WeightsReport(
            path,
            file is TorchCheckpoint ? "pytorch" : "safetensors",
            file.Entries.Sum(entry => entry.ElementCount),
            file.Entries.Select(entry => new Tensor(entry.Name, entry.DType.Name(), entry.Shape)).ToArray());
    }
}
