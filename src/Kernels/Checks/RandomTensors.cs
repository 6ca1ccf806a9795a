using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

/// <summary>Seeded inputs for the op checks: uniform in [low, high), as float or int arrays and as tensors on a device.</summary>
public sealed class RandomTensors(int seed)
{
    // System.Random spelled out: inside ReClip.Kernels, "Random" names the ReClip.Kernels.Random namespace.
    private readonly System.Random random = new(seed);

    public float[] Uniform(int count, float low = -1, float high = 1)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    /// <summary>Integers uniform in [low, high), e.g. class indices and label maps.</summary>
    public int[] Integers(int count, int low, int high)
    {
        int[] values = new int[count];
        for (int i = 0; i < count; i++)
            values[i] = random.Next(low, high);
        return values;
    }

    public static Tensor On(Device device, float[] values, params int[] shape) => On<float>(device, values, shape);

    public static Tensor On(Device device, int[] values, params int[] shape) => On<int>(device, values, shape);

    /// <summary>The values rounded to bfloat16, stored so, on the device.</summary>
    public static Tensor OnInBFloat16(Device device, float[] values, params int[] shape) =>
        On<BFloat16>(device, [.. values.Select(v => (BFloat16)v)], shape);

    private static Tensor On<T>(Device device, T[] values, int[] shape) where T : unmanaged
    {
        using Tensor host = Tensor.FromSpan<T>(values, shape);
        return device.IsCpu ? host.Clone() : host.ToDevice(device);
    }
}
