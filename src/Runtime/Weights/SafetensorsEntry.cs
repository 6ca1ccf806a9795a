namespace ReClip.Runtime.Weights;

/// <summary>One tensor as the safetensors header declares it; the data offsets are relative to the start of the data section.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, int[] Shape, long DataBegin, long DataEnd)
{
    public long ByteLength => DataEnd - DataBegin;
}
