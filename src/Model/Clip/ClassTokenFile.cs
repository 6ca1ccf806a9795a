using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Model.Clip;

/// <summary>
/// Reads a class token to put in place of CLIP's (spec §2.3) from a weight file of any supported format: the authors'
/// <c>utils/cls_token.pt</c> (one <c>nn.Parameter</c> [1, 1, 768] saved alone), a file of that one tensor, or a
/// checkpoint of the authors' whole model, whose image tower keeps it as <c>vit.cls_token</c>.
/// </summary>
public static class ClassTokenFile
{
    private const string TokenName = "cls_token";

    /// <summary>The token's values: a floating tensor of exactly <paramref name="width"/> finite values, whatever its shape.</summary>
    public static float[] Read(string path, int width)
    {
        ArgumentNullException.ThrowIfNull(path);
        using IWeightFile file = WeightFiles.Open(path);
        WeightEntry entry = Token(file);
        if (entry.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new WeightFileException(path, $"is {entry.DType}, not a floating-point class token", entry.Name);
        if (entry.ElementCount != width)
            throw new WeightFileException(path,
                $"holds {Shape.Format(entry.Shape)} ({entry.ElementCount} values); the class token of this CLIP's image tower has {width}", entry.Name);
        using Tensor token = file.Load(entry.Name);
        WeightChecks.RequireFinite(token, path, entry.Name);
        return token.ToFloatArray();
    }

    /// <summary>
    /// "sha256 " and the SHA-256 of <paramref name="values"/> as float32 bytes, the identity of a class token whatever file held
    /// it: the authors' utils/cls_token.pt gives fc0beba6… (spec §2.3).
    /// </summary>
    public static string Digest(ReadOnlySpan<float> values) => "sha256 " + Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));

    /// <summary>The file's only tensor, or else its one tensor named cls_token (at any depth).</summary>
    private static WeightEntry Token(IWeightFile file)
    {
        if (file.Entries.Count == 1)
            return file.Entries[0];
        WeightEntry[] named = [.. file.Entries.Where(e => e.Name == TokenName || e.Name.EndsWith("." + TokenName, StringComparison.Ordinal))];
        if (named.Length == 1)
            return named[0];
        string found = named.Length == 0 ? "none" : string.Join(", ", named.Select(e => e.Name));
        throw new WeightFileException(file.Path,
            $"holds {file.Entries.Count} tensors, and {found} named {TokenName}: give a file of the class token alone (such as the authors' utils/cls_token.pt)");
    }
}
