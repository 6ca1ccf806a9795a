using System.Globalization;
using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli;

/// <summary>
/// A training run on the terminal: the <see cref="Trainer"/> with a progress bar per epoch, a log line per epoch on
/// stderr, and validation through the <see cref="Evaluator"/> without prompt denoising (spec §9) on frozen
/// features cached for the whole run. In a data-parallel run (<paramref name="group"/>), rank 0 alone shows progress
/// and validates; the other ranks train silently.
/// </summary>
public sealed class TrainingSession(ClipWeights clip, ClipTokenizer tokenizer, SegmentationDataset train, SegmentationDataset? validation, int[][] hypotheses, TrainerOptions options,
    ICollective? group = null)
{
    public TrainingState Run(Tensor query, string? resume, CancellationToken cancel)
    {
        var vision = new VisionTransformer(clip, ResidualBlock.MaskClipVisualEps);
        using var cache = new FrozenFeatureCache();
        ProgressBar? bar = null;
        int reported = 0;
        bool shows = group is null || group.Rank == 0;
        var trainer = new Trainer(clip, ReferencePrompt.SlotIds(tokenizer, train.Classes), train, hypotheses, options)
        {
            Group = group,
            StepDone = !shows ? null : step =>
            {
                // A resumed epoch starts part-way: the bar counts from the step reached.
                if (bar is null)
                {
                    bar = new ProgressBar($"epoch {step.Epoch + 1}/{options.Epochs}", step.StepsInEpoch);
                    reported = 0;
                }
                bar.Advance(step.StepInEpoch - reported, step.Skipped is string why ? "skipped: " + why : string.Create(CultureInfo.InvariantCulture, $"loss {step.Loss:0.0000}"));
                reported = step.StepInEpoch;
            },
            Notice = !shows ? null : note =>
            {
                bar?.Dispose();
                bar = null;
                Console.Error.WriteLine("reclip: " + note);
            },
            EpochDone = !shows ? null : record =>
            {
                bar?.Dispose();
                bar = null;
                Console.Error.WriteLine(EpochLine(record));
            },
        };
        try
        {
            return trainer.Run(query, validation is null ? null : Validate, resume, cancel);
        }
        finally
        {
            bar?.Dispose();
        }

        double Validate(ReClipHead head)
        {
            bar?.Dispose();
            bar = null;
            using var segmenter = new Segmenter(vision, head, validation!.Preset) { DenoisingThreshold = null };
            using var progress = new ProgressBar($"validate {validation.Split}", validation.Samples.Count);
            return Evaluator.Run(segmenter, validation, cache, _ => progress.Advance()).MeanIoU;
        }
    }

    private string EpochLine(EpochRecord r)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        string skipped = r.SkippedBatches > 0 ? string.Create(c, $" (skipped {r.SkippedBatches})") : "";
        if (r.NonFiniteSteps > 0) skipped += string.Create(c, $" (non-finite {r.NonFiniteSteps})");
        string loss = r.MeanLoss is double mean ? string.Create(c, $"loss {mean:0.0000}") : "loss none";
        string validation = r.ValidationMeanIoU is double miou ? string.Create(c, $" val mIoU {miou * 100:0.00}") : "";
        return string.Create(c, $"epoch {r.Epoch + 1}/{options.Epochs}: lr {r.LearningRate:0.######} {loss} steps {r.Steps}{skipped}{validation} {r.Seconds:0.0} s");
    }
}
