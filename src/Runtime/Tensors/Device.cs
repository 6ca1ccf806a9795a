namespace ReClip.Runtime.Tensors;

public enum DeviceKind : byte
{
    Cpu,
    Cuda,
}

/// <summary>Where a tensor's storage lives. Parsed from "cpu", "cuda" or "cuda:N".</summary>
public readonly record struct Device(DeviceKind Kind, int Index)
{
    public static Device Cpu { get; } = new(DeviceKind.Cpu, 0);

    public static Device Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new Device(DeviceKind.Cuda, index);
    }

    public bool IsCpu => Kind == DeviceKind.Cpu;

    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda(0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
            return Cuda(index);
        throw new FormatException($"unknown device '{text}': expected cpu, cuda or cuda:N");
    }

    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Index}";
}
