namespace ReClip.Runtime.Weights;

/// <summary>
/// The storage element offsets of a strided view in row-major order of its elements: an odometer over
/// the indices that adds a stride per step instead of recomputing the dot product.
/// </summary>
internal sealed class StridedOffsets(long start, long[] size, long[] stride)
{
    private readonly long[] index = new long[size.Length];
    private long next = start;
    private long remaining = size.Aggregate(1L, (count, dim) => count * dim);

    public long Current { get; private set; }

    public bool MoveNext()
    {
        if (remaining == 0)
            return false;
        remaining--;
        Current = next;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            next += stride[d];
            if (++index[d] < size[d])
                break;
            next -= stride[d] * size[d];
            index[d] = 0;
        }
        return true;
    }
}
