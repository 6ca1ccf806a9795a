using System.Globalization;
using System.Text;
using ReClip.Model.Eval;
using ReClip.Runtime.IO;

namespace ReClip.Cli.Demo;

/// <summary>The demo's report.md: the comparison table, the hypothesis quality, the training curve, per-class IoU, the pictures and the timings.</summary>
public static class DemoReport
{
    public static void Write(string path, DemoResult r, string device)
    {
        ArgumentNullException.ThrowIfNull(r);
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        string Fixed(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

        Line("# ReCLIP++ on the synthetic world");
        Line();
        Line($"The tiny CLIP of `assets/tinyclip/` (trained by `tools/tinyclip/train.py` on this world's captions) segments the " +
             $"{r.Settings.ValImages} validation scenes zero-shot (MaskCLIP) and after ReCLIP++ training on {r.Settings.TrainImages} " +
             $"unlabelled scenes. Both are scored the same way: whole image, no prompt denoising, mIoU over all " +
             $"{r.MaskClip.ClassNames.Count} classes (spec §10). The scores are defined in `docs/METRICS.md`; the world and its built-in " +
             "biases in `docs/SYNTHETIC_WORLD.md`.");
        Line();
        Line("| method | mIoU | pixel accuracy | class-preference score | space-preference score |");
        Line("|---|---|---|---|---|");
        foreach ((string name, EvaluationReport e) in new[] { ("MaskCLIP", r.MaskClip), ("ReCLIP++", r.ReClip) })
            Line($"| {name} | {Figures.Percent(e.MeanIoU)} | {Figures.Percent(e.PixelAccuracy)} | {Figures.Score(e.ClassPreference)} | {Figures.Score(e.SpacePreference)} |");
        Line();
        Line($"Change: mIoU {Fixed(100 * (r.ReClip.MeanIoU - r.MaskClip.MeanIoU), "+0.00;-0.00")} points, class preference " +
             $"{Fixed(r.ReClip.ClassPreference - r.MaskClip.ClassPreference, "+0.000;-0.000")}, space preference " +
             $"{Fixed(r.ReClip.SpacePreference - r.MaskClip.SpacePreference, "+0.000;-0.000")} (higher is less biased for both).");
        Line();
        Line("## Hypothesis (spec §8)");
        Line();
        Line($"Windows of {r.Preset.HypothesisWindow} px every {r.Preset.HypothesisStride} px on each training scene, classified by the stock CLIP: " +
             $"{Fixed(r.Hypothesis.ClassesPerImage, "0.00")} classes named per scene, {Fixed(r.Hypothesis.PresentPerImage, "0.00")} present " +
             $"(at least {HypothesisQuality.MinimumPixels} pixels); precision {Figures.Percent(r.Hypothesis.Precision)} %, recall {Figures.Percent(r.Hypothesis.Recall)} %.");
        Line();
        Line("## Training (spec §9)");
        Line();
        Line($"{r.Training.History.Count} epochs over {r.Settings.TrainImages} scenes in batches of {r.Settings.BatchSize}, peak lr {r.Settings.LearningRate}, seed {r.Settings.TrainingSeed}, with the " +
             $"poly schedule over {r.Settings.MaxEpoch} epochs; the best epoch on the {r.Settings.SelectImages}-scene select split " +
             $"(MaskCLIP there: {Figures.Percent(r.MaskClipSelectionMeanIoU)}) is the one scored above.");
        Line();
        Line("| epoch | lr | mean loss | select mIoU | seconds |");
        Line("|---|---|---|---|---|");
        foreach (var e in r.Training.History)
            Line($"| {e.Epoch + 1} | {Fixed(e.LearningRate, "0.######")} | {(e.MeanLoss is double loss ? Fixed(loss, "0.0000") : "no steps")} | {Figures.Percent(e.ValidationMeanIoU ?? double.NaN)} | {Fixed(e.Seconds, "0.0")} |");
        Line();
        Line("![training loss](loss.png) ![select mIoU](validation-miou.png)");
        Line();
        Line("## IoU per class (val)");
        Line();
        Line("| class | MaskCLIP | ReCLIP++ |");
        Line("|---|---|---|");
        for (int c = 0; c < r.MaskClip.ClassNames.Count; c++)
            Line($"| {r.MaskClip.ClassNames[c]} | {Figures.Percent(r.MaskClip.ClassIoU[c])} | {Figures.Percent(r.ReClip.ClassIoU[c])} |");
        Line();
        Line("## Pictures");
        Line();
        Line("Each row: the scene, its ground truth, MaskCLIP, ReCLIP++ (colours in the legend).");
        Line();
        foreach (string overlay in r.Overlays)
            Line($"![{Path.GetFileNameWithoutExtension(overlay)}]({Path.GetFileName(overlay)})");
        Line();
        Line("## Time");
        Line();
        Line($"{Fixed(r.Seconds, "0.0")} s in all on {device}.");
        Line();
        Line("| stage | seconds |");
        Line("|---|---|");
        foreach ((string stage, double seconds) in r.Stages)
            Line($"| {stage} | {Fixed(seconds, "0.0")} |");
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
