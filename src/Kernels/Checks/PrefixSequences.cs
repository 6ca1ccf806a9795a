namespace ReClip.Kernels.Checks;

/// <summary>
/// The prefix form of attention (<see cref="Ops.Attention.ForwardAfterPrefix"/>) seen as the plain form: every class's
/// keys or values [P + S, D] as the shared prefix's rows followed by its own, and a gradient of that layout taken apart
/// again. Row-major float arrays, as the references and the checks hold them.
/// </summary>
internal static class PrefixSequences
{
    /// <summary>[C, P + S, D] from the prefix's rows [P, D] and the classes' own rows [C, S, D].</summary>
    public static float[] Concatenate(float[] prefix, float[] own, int classes)
    {
        int ownFloats = own.Length / classes, sequenceFloats = prefix.Length + ownFloats;
        float[] all = new float[classes * sequenceFloats];
        for (int c = 0; c < classes; c++)
        {
            prefix.CopyTo(all, c * sequenceFloats);
            Array.Copy(own, c * ownFloats, all, c * sequenceFloats + prefix.Length, ownFloats);
        }
        return all;
    }

    /// <summary>A [C, P + S, D] gradient as its prefix rows summed over the classes [P, D] and the classes' own rows [C, S, D].</summary>
    public static (float[] Prefix, float[] Own) Split(float[] full, int classes, int prefixLength, int width)
    {
        int sequenceFloats = full.Length / classes, prefixFloats = prefixLength * width, ownFloats = sequenceFloats - prefixFloats;
        float[] prefix = new float[prefixFloats], own = new float[classes * ownFloats];
        for (int c = 0; c < classes; c++)
        {
            int start = c * sequenceFloats;
            for (int i = 0; i < prefixFloats; i++) prefix[i] += full[start + i];
            Array.Copy(full, start + prefixFloats, own, c * ownFloats, ownFloats);
        }
        return (prefix, own);
    }
}
