using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Cli.Commands;

/// <summary>
/// What `reclip info --weights FILE` shows: every tensor the file declares, the total parameter count, and what the file's
/// own checksums covered (checked over all of it: a corrupt file is refused here too).
/// </summary>
public sealed record WeightsReport(string Path, string Format, long Parameters, string Checksum, IReadOnlyList<WeightsReport.Tensor> Tensors)
{
    public sealed record Tensor(string Name, string Dtype, int[] Shape);

    public static WeightsReport Read(string path)
    {
        using IWeightFile file = WeightFiles.Open(path);
        return new WeightsReport(
            path,
            file is TorchCheckpoint ? "pytorch" : "safetensors",
            file.Entries.Sum(entry => entry.ElementCount),
            file.VerifyChecksums() is string verified ? $"{verified} ok" : "none recorded",
            file.Entries.Select(entry => new Tensor(entry.Name, entry.DType.Name(), entry.Shape)).ToArray());
    }
}
