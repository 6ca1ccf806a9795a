using System.Buffers.Binary;
using System.Text;

namespace ReClip.Runtime.Weights;

/// <summary>
/// A cursor over pickle bytes. Every length a pickle declares is checked against the bytes that are
/// actually left before anything is allocated, so no string or byte string can be larger than the entry
/// it came from.
/// </summary>
internal ref struct PickleReader(ReadOnlySpan<byte> data)
{
    /// <summary>Module and class names of globals are short identifiers; anything longer is not a real name.</summary>
    public const int MaxGlobalNameLength = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> data = data;

    public int Position { get; private set; }

    public readonly int Remaining => data.Length - Position;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>BINFLOAT is the one big-endian field of the format.</summary>
    public double ReadBigEndianDouble() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    /// <summary>LONG1: a little-endian two's-complement integer of <paramref name="length"/> bytes.</summary>
    public long ReadSignedInteger(int length)
    {
        if (length > 8)
            throw new PickleRefusedException($"a {length}-byte integer is wider than 64 bits");
        ReadOnlySpan<byte> bytes = Take(length);
        if (length == 0)
            return 0;
        long value = (sbyte)bytes[length - 1];
        for (int i = length - 2; i >= 0; i--)
            value = (value << 8) | bytes[i];
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(ulong length)
    {
        if (length > (ulong)Remaining)
            throw new PickleRefusedException($"a {length}-byte string runs past the end of the pickle ({Remaining} bytes left)");
        return Take((int)length);
    }

    public string ReadUtf8(ulong length)
    {
        ReadOnlySpan<byte> bytes = ReadBytes(length);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new PickleRefusedException("a string is not valid UTF-8");
        }
    }

    /// <summary>The newline-terminated module or class name of a GLOBAL opcode.</summary>
    public string ReadGlobalName()
    {
        ReadOnlySpan<byte> rest = data[Position..];
        int end = rest[..Math.Min(rest.Length, MaxGlobalNameLength + 1)].IndexOf((byte)'\n');
        if (end < 0)
            throw new PickleRefusedException($"a global name is not newline-terminated within {MaxGlobalNameLength} bytes");
        string name = Encoding.ASCII.GetString(Take(end));
        Position++;
        return RequireGlobalName(name);
    }

    /// <summary>Dotted Python identifiers only, so a refusal message can quote the name safely.</summary>
    public static string RequireGlobalName(string name)
    {
        bool valid = name.Length is > 0 and <= MaxGlobalNameLength
            && name.All(c => c is '_' or '.' or (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9'));
        if (!valid)
            throw new PickleRefusedException($"'{name.ReplaceLineEndings(" ")}' is not a valid global name");
        return name;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
            throw new PickleRefusedException($"the pickle ends inside an opcode's argument ({count} bytes needed, {Remaining} left)");
        ReadOnlySpan<byte> bytes = data.Slice(Position, count);
        Position += count;
        return bytes;
    }
}
