using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// From patch-grid logits to a prediction map (spec §10 steps 4–5): bilinear (align_corners=False, no antialias)
/// from the grid (h, w) to the resized image (H', W') — the padded grid stretched onto the unpadded image, as the
/// reference does — then bilinear again to the original label size (H, W), then softmax over classes and argmax.
/// </summary>
public static class Upsampling
{
    /// <summary>logits [C, h, w] or [1, C, h, w] → logits [C, H, W] through [C, H', W'] (two resizes, as the reference).</summary>
    public static Tensor Upsample(Tensor logits, int resizedHeight, int resizedWidth, int labelHeight, int labelWidth)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank is not (3 or 4) || (logits.Rank == 4 && logits.Size(0) != 1))
            throw new TensorShapeException($"Upsampling: logits {Shape.Format(logits.Shape)} are neither [C, h, w] nor [1, C, h, w]");
        int classes = logits.Size(-3);
        using Tensor grid = logits.Reshape(classes, logits.Size(-2), logits.Size(-1));
        using Tensor resized = Tensor.Empty([classes, resizedHeight, resizedWidth], DType.F32, logits.Device);
        BilinearResize.Forward(grid, resized);
        Tensor label = Tensor.Empty([classes, labelHeight, labelWidth], DType.F32, logits.Device);
        try
        {
            BilinearResize.Forward(resized, label);
            return label;
        }
        catch
        {
            label.Dispose();
            throw;
        }
    }

    /// <summary>The prediction map: i32 [H, W] class ids from logits [C, h, w] or [1, C, h, w] (CPU tensors).</summary>
    public static Tensor Predict(Tensor logits, int resizedHeight, int resizedWidth, int labelHeight, int labelWidth)
    {
        using Tensor upsampled = Upsample(logits, resizedHeight, resizedWidth, labelHeight, labelWidth);
        return Argmax(upsampled);
    }

    /// <summary>
    /// Class ids [H, W] from logits [C, H, W]. The reference takes softmax before argmax; it cannot reorder
    /// classes, but float32 rounding can make two nearly equal logits tie, and a tie goes to the lower class id,
    /// so the softmax is kept for bit-identical predictions.
    /// </summary>
    public static Tensor Argmax(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 3)
            throw new TensorShapeException($"Upsampling.Argmax: logits {Shape.Format(logits.Shape)} are not [C, H, W]");
        int classes = logits.Size(0), height = logits.Size(1), width = logits.Size(2);
        using Tensor planes = logits.Reshape(classes, height * width);
        using Tensor transposed = planes.Transpose(0, 1);
        using Tensor scores = transposed.Contiguous();
        Softmax.Forward(scores, scores);
        Tensor prediction = Tensor.Empty([height, width], DType.I32);
        try
        {
            using Tensor flat = prediction.Reshape(height * width);
            Kernels.Ops.Argmax.Forward(scores, flat);
            return prediction;
        }
        catch
        {
            prediction.Dispose();
            throw;
        }
    }
}
