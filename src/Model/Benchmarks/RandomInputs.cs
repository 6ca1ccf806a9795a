using ReClip.Kernels.Ops;
using ReClip.Model.Data;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>Seeded inputs for timing the model: their values do not change the work, only make it repeatable.</summary>
public static class RandomInputs
{
    /// <summary>Class c's one BPE id; any id inside CLIP's vocabulary would do.</summary>
    private const int FirstClassToken = 2000;

    /// <summary>Normalised-looking images [batch, 3, size, size] with values in [−1, 1); image 0 is the same for every batch.</summary>
    public static Tensor Images(int batch, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Tensor images = Tensor.Empty([batch, 3, size, size]);
        var random = new Random(1);
        foreach (ref float x in images.AsSpan<float>())
            x = random.NextSingle() * 2 - 1;
        return images;
    }

    /// <summary>A picture of noise, width × height, as a user's photo would enter the segmenter.</summary>
    public static RgbImage Picture(int width, int height)
    {
        var picture = new RgbImage(width, height);
        new Random(2).NextBytes(picture.Pixels);
        return picture;
    }

    /// <summary>[rows, width] with unit rows: a stand-in for a Query bank (spec §4.5), whose values do not change the work.</summary>
    public static Tensor UnitRows(int rows, int width, int seed)
    {
        Tensor bank = Tensor.Empty([rows, width]);
        var random = new Random(seed);
        foreach (ref float x in bank.AsSpan<float>())
            x = random.NextSingle() * 2 - 1;
        L2Normalize.Forward(bank, bank);
        return bank;
    }

    /// <summary>The Reference prompt's slot ids (spec §2.2) of <paramref name="classes"/> one-token class names.</summary>
    public static int[] OneTokenSlots(int classes, int endToken)
    {
        int[] slots = new int[classes * ReferencePrompt.SlotCount];
        for (int c = 0; c < classes; c++)
            (slots[c * 3], slots[c * 3 + 1], slots[c * 3 + 2]) = (FirstClassToken + c, endToken, 0);
        return slots;
    }
}
