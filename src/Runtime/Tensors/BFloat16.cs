namespace ReClip.Runtime.Tensors;

/// <summary>
/// bfloat16 as stored in weight files: the upper 16 bits of an IEEE float32.
/// Conversion from float32 rounds to nearest even and keeps NaN a NaN (as PyTorch does).
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    public ushort Bits { get; }

    private BFloat16(ushort bits) => Bits = bits;

    public static BFloat16 FromBits(ushort bits) => new(bits);

    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value.Bits << 16);

    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + roundingBias) >> 16));
    }

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    public override int GetHashCode() => Bits;

    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);
}
