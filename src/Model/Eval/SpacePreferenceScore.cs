using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// The paper's space-preference score (spec §11; definition and its reasons in docs/METRICS.md). Objects are the
/// 4-connected components of each ground-truth class in an image. An object's centroid (mean of its pixel centres)
/// has a normalised distance d = |centroid − image centre| / half-diagonal ∈ [0, 1], put into one of B equal-width
/// bins; every counted pixel joins its object's bin. Each bin keeps its own C×C confusion matrix, so bin b's mIoU
/// counts a false positive where it happens (on an object of bin b). The per-bin mIoU averages the IoUs of the
/// classes present in that bin's ground truth. The score is the mean slope ΔmIoU/Δd between consecutive non-empty
/// bins (d at bin centres): 0 = flat, negative = better near the centre, higher = less spatial bias. The counts
/// are integers, so shards merge exactly.
/// </summary>
public sealed class SpacePreferenceScore
{
    public const int DefaultBins = 5;

    private readonly long[] counts;

    public SpacePreferenceScore(int classes, int bins = DefaultBins)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        Classes = classes;
        Bins = bins;
        counts = new long[checked(bins * classes * classes)];
    }

    public int Classes { get; }

    public int Bins { get; }

    /// <summary>Per-bin confusion matrices, [bin][gt][pred].</summary>
    public ReadOnlySpan<long> Counts => counts;

    /// <summary>Adds one image: an i32 prediction [H, W] against its label map.</summary>
    public void Accumulate(Tensor prediction, LabelMap groundTruth)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(groundTruth);
        Shape.Require("SpacePreferenceScore prediction", [groundTruth.Height, groundTruth.Width], prediction.Shape);
        int[] truth = Array.ConvertAll(groundTruth.Labels, v => (int)v);
        Accumulate(prediction.AsSpan<int>(), truth, groundTruth.Width, groundTruth.Height);
    }

    /// <summary>Adds one image from row-major prediction and ground-truth maps; ground truth 255 is ignored.</summary>
    public void Accumulate(ReadOnlySpan<int> prediction, ReadOnlySpan<int> groundTruth, int width, int height)
    {
        if (prediction.Length != groundTruth.Length)
            throw new ArgumentException($"SpacePreferenceScore: prediction has {prediction.Length} pixels, ground truth {groundTruth.Length}");
        for (int i = 0; i < groundTruth.Length; i++)
        {
            int gt = groundTruth[i];
            if (gt != LabelMap.Ignore && ((uint)gt >= (uint)Classes || (uint)prediction[i] >= (uint)Classes))
                throw new ArgumentException($"SpacePreferenceScore: pixel {i} has ground truth {gt} and prediction {prediction[i]}; both must be classes in [0, {Classes}) (ground truth {LabelMap.Ignore} = ignored)");
        }
        int[] components = new int[groundTruth.Length];
        int objects = ConnectedComponents.Label(groundTruth, width, height, components, LabelMap.Ignore);
        int[] bins = ObjectBins(components, objects, width, height);
        int matrix = Classes * Classes;
        for (int i = 0; i < groundTruth.Length; i++)
            if (components[i] >= 0)
                counts[bins[components[i]] * matrix + groundTruth[i] * Classes + prediction[i]]++;
    }

    /// <summary>Adds another accumulator's counts (an evaluation shard): exact integer sums.</summary>
    public void Merge(SpacePreferenceScore other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Classes != Classes || other.Bins != Bins)
            throw new ArgumentException($"SpacePreferenceScore.Merge: {other.Classes} classes × {other.Bins} bins cannot merge into {Classes} × {Bins}", nameof(other));
        Add(other.counts);
    }

    /// <summary>Adds stored per-bin counts of the same classes and bins ([bin][gt][pred]), e.g. read from a shard file.</summary>
    public void Add(ReadOnlySpan<long> other)
    {
        if (other.Length != counts.Length)
            throw new ArgumentException($"SpacePreferenceScore.Add: {other.Length} counts do not form {Bins} bins of {Classes}×{Classes}", nameof(other));
        for (int i = 0; i < counts.Length; i++)
            counts[i] = checked(counts[i] + other[i]);
    }

    /// <summary>Bin b's mIoU over the classes present in its ground truth; NaN for a bin without objects.</summary>
    public double BinMeanIoU(int bin)
    {
        ReadOnlySpan<long> m = counts.AsSpan(bin * Classes * Classes, Classes * Classes);
        double sum = 0;
        int present = 0;
        for (int c = 0; c < Classes; c++)
        {
            long truth = 0, predicted = 0;
            for (int j = 0; j < Classes; j++)
            {
                truth += m[c * Classes + j];
                predicted += m[j * Classes + c];
            }
            if (truth == 0)
                continue;
            long intersection = m[c * Classes + c];
            sum += (double)intersection / (truth + predicted - intersection);
            present++;
        }
        return present == 0 ? double.NaN : sum / present;
    }

    /// <summary>Bin b's pixel accuracy (share of its object pixels predicted correctly); NaN for an empty bin.</summary>
    public double BinPixelAccuracy(int bin)
    {
        ReadOnlySpan<long> m = counts.AsSpan(bin * Classes * Classes, Classes * Classes);
        long correct = 0, total = 0;
        for (int c = 0; c < Classes; c++)
            correct += m[c * Classes + c];
        foreach (long count in m)
            total += count;
        return total == 0 ? double.NaN : (double)correct / total;
    }

    /// <summary>The mean of ΔmIoU/Δd over consecutive non-empty bins (d at bin centres); 0 with fewer than two.</summary>
    public double Score()
    {
        double sum = 0, previous = double.NaN;
        int slopes = 0, previousBin = -1;
        for (int b = 0; b < Bins; b++)
        {
            double miou = BinMeanIoU(b);
            if (double.IsNaN(miou))
                continue;
            if (previousBin >= 0)
            {
                sum += (miou - previous) / ((double)(b - previousBin) / Bins);
                slopes++;
            }
            previous = miou;
            previousBin = b;
        }
        return slopes == 0 ? 0 : sum / slopes;
    }

    /// <summary>
    /// Each object's bin from its centroid (mean pixel centre) and the image centre: min(⌊d·B⌋, B−1), decided in integers.
    /// Pixel x covers [x, x + 1), so with n pixels the centroid lies (2·Σx + n − W·n) / 2n from the centre along x, and d² is
    /// (X² + Y²) / (n²·(W² + H²)) for those numerators X and Y: bin k is reached when k²·n²·(W² + H²) ≤ B²·(X² + Y²). In
    /// floating point an object exactly on a boundary (d = 0.8 with B = 5) could fall a bin short.
    /// </summary>
    private int[] ObjectBins(ReadOnlySpan<int> components, int objects, int width, int height)
    {
        long[] sumX = new long[objects], sumY = new long[objects], pixels = new long[objects];
        for (int i = 0; i < components.Length; i++)
        {
            int o = components[i];
            if (o < 0)
                continue;
            sumX[o] += i % width;
            sumY[o] += i / width;
            pixels[o]++;
        }
        // Int128: X reaches n·W, about 2³³ for a 2048-pixel image, so X² overflows 64 bits.
        Int128 diagonal = (Int128)width * width + (Int128)height * height;
        int[] bins = new int[objects];
        for (int o = 0; o < objects; o++)
        {
            Int128 n = pixels[o], x = 2 * (Int128)sumX[o] + n - width * n, y = 2 * (Int128)sumY[o] + n - height * n;
            Int128 reach = (Int128)Bins * Bins * (x * x + y * y), scale = n * n * diagonal;
            int bin = 0;
            while (bin + 1 < Bins && (Int128)(bin + 1) * (bin + 1) * scale <= reach)
                bin++;
            bins[o] = bin;
        }
        return bins;
    }
}
