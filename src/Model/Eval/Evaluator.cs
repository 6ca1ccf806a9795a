using System.Diagnostics;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// Runs a <see cref="Segmenter"/> over every image of a labelled split (spec §10): predictions at label size,
/// split-wide confusion counts for mIoU, pixel accuracy and the class-preference score, per-distance-bin counts for
/// the space-preference score. Nothing is skipped (a shard counts its whole block): an image or label that cannot
/// be read stops the evaluation with an error naming the file, since a score over part of a split would look like a
/// score over all of it.
/// </summary>
public static class Evaluator
{
    /// <param name="cache">Frozen features kept between calls (e.g. one per training run); null computes them each time.</param>
    /// <param name="progress">Called with the number of images done after each image.</param>
    public static EvaluationReport Run(Segmenter segmenter, SegmentationDataset dataset, FrozenFeatureCache? cache = null, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var clock = Stopwatch.StartNew();
        EvaluationCounts counts = Count(segmenter, dataset, dataset.Samples, cache, progress);
        return counts.Report(dataset.Classes, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The counts of <paramref name="samples"/> (all of a split, or one shard of it, see
    /// <see cref="Sharding.DatasetShard"/>): the scores come from <see cref="EvaluationCounts.Report"/> once every
    /// part is counted.
    /// </summary>
    public static EvaluationCounts Count(Segmenter segmenter, SegmentationDataset dataset, IReadOnlyList<DatasetSample> samples,
        FrozenFeatureCache? cache = null, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(samples);
        if (!dataset.HasLabels)
            throw new ArgumentException($"{dataset.Root}: the {dataset.Split} split has no label files to evaluate against", nameof(dataset));
        int classes = dataset.Classes.Count;
        if (classes != segmenter.Classes)
            throw new ArgumentException($"{dataset.Root}: {classes} dataset classes but the model segments {segmenter.Classes}", nameof(dataset));
        var counts = new EvaluationCounts(classes);
        // Labels, and the images whose features are not cached yet, are decoded ahead on the thread pool.
        bool[] encode = [.. samples.Select(sample => cache is null || !cache.Contains(sample.ImagePath))];
        using var reads = new ReadAhead<(LabelMap Labels, RgbImage? Image)>(samples.Count,
            i => (dataset.ReadLabels(samples[i]), encode[i] ? dataset.ReadImage(samples[i]) : null), ReadAhead.DefaultDepth);
        for (int i = 0; i < samples.Count; i++)
        {
            DatasetSample sample = samples[i];
            (LabelMap labels, RgbImage? image) = reads.Next();
            using Tensor prediction = cache is null ? Predict(segmenter, sample, labels, image!)
                : Predict(segmenter, sample, labels, cache.GetOrAdd(segmenter, sample.ImagePath, () => segmenter.Encode(image ?? dataset.ReadImage(sample))));
            counts.Accumulate(prediction, labels);
            progress?.Invoke(i + 1);
        }
        return counts;
    }

    private static Tensor Predict(Segmenter segmenter, DatasetSample sample, LabelMap labels, RgbImage image)
    {
        RequireSize(sample, labels, image.Width, image.Height);
        using FrozenFeatures encoded = segmenter.Encode(image);
        return segmenter.Predict(encoded, labels.Width, labels.Height);
    }

    /// <summary>The prediction for one sample from its cached features.</summary>
    private static Tensor Predict(Segmenter segmenter, DatasetSample sample, LabelMap labels, FrozenFeatures frozen)
    {
        RequireSize(sample, labels, frozen.ImageWidth, frozen.ImageHeight);
        return segmenter.Predict(frozen, labels.Width, labels.Height);
    }

    private static void RequireSize(DatasetSample sample, LabelMap labels, int width, int height)
    {
        if (labels.Width != width || labels.Height != height)
            throw new InvalidDataException($"{sample.LabelPath}: labels are {labels.Width}x{labels.Height} but {sample.ImagePath} is {width}x{height}");
    }
}
