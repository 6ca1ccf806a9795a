namespace ReClip.Runtime.Cuda;

/// <summary>
/// The byte sizes of a kernel's parameters, checked against each launch's arguments. cuLaunchKernel copies every
/// parameter from the argument pointer of its index without knowing how many were given: an argument list that has
/// drifted from its kernel's signature (one left out, an int where a long long is declared) would run with shifted
/// values and fault somewhere else, or not fault at all. The driver reports the sizes since CUDA 12.4
/// (cuFuncGetParamInfo); with an older driver launches go unchecked, as before.
/// </summary>
public static class KernelParameters
{
    private const int InvalidValue = 1;

    /// <summary>More parameters than a launch can give: a driver that never says "past the last" is not believed.</summary>
    private const int Limit = 4 * KernelArguments.Capacity;

    /// <summary>
    /// The sizes of <paramref name="function"/>'s parameters in order, or null when the driver cannot say: a call it
    /// does not have, a status other than "past the last", or "past the last" at the first (every kernel of ours has
    /// parameters, so that is a driver that does not know them rather than a kernel without any).
    /// </summary>
    internal static int[]? Read(nint function)
    {
        var sizes = new List<int>();
        try
        {
            for (nuint index = 0; index < Limit; index++)
            {
                int status = DriverApi.cuFuncGetParamInfo(function, index, out _, out nuint size);
                if (status == InvalidValue)
                    return index == 0 ? null : [.. sizes];
                if (status != 0)
                    return null;
                sizes.Add(checked((int)size));
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        return null;
    }

    /// <summary>
    /// Why arguments of <paramref name="argumentSizes"/> bytes cannot be the parameters of <paramref name="parameterSizes"/>
    /// bytes of kernel <paramref name="name"/>, or null when they fit one to one.
    /// </summary>
    public static string? Mismatch(string name, ReadOnlySpan<int> parameterSizes, ReadOnlySpan<int> argumentSizes)
    {
        if (parameterSizes.Length != argumentSizes.Length)
            return $"kernel {name} takes {parameterSizes.Length} parameters{Listed(parameterSizes, " bytes")}, its launch gave {argumentSizes.Length}{Listed(argumentSizes, "")}";
        for (int i = 0; i < parameterSizes.Length; i++)
            if (parameterSizes[i] != argumentSizes[i])
                return $"kernel {name}'s parameter {i} takes {parameterSizes[i]} bytes, its launch gave {argumentSizes[i]} ({Format(parameterSizes)} against {Format(argumentSizes)})";
        return null;
    }

    private static string Format(ReadOnlySpan<int> sizes) => string.Join(' ', sizes.ToArray());

    private static string Listed(ReadOnlySpan<int> sizes, string unit) => sizes.IsEmpty ? "" : $" ({Format(sizes)}{unit})";
}
