using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

/// <summary>Seeded inputs for the op checks: uniform in [low, high), as float arrays and as tensors on a device.</summary>
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

    public static Tensor On(Device device, float[] values, params int[] shape)
    {
        using Tensor host = Tensor.FromSpan<float>(values, shape);
        return device.IsCpu ? host.Clone() : host.ToDevice(device);
    }
}
