using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>What <c>_rebuild_tensor_v2</c> describes: a strided view, in elements, of a storage.</summary>
internal sealed record TorchTensorRecord(TorchStorageRef Storage, long StorageOffset, long[] Size, long[] Stride)
{
    /// <summary>Row-major with no gaps, ignoring dimensions of size 1 (their stride is never used), as <see cref="Tensor.IsContiguous"/> does.</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Size.Length - 1; i >= 0; i--)
            {
                if (Size[i] != 1 && Stride[i] != expected)
                    return false;
                expected *= Size[i];
            }
            return true;
        }
    }

    public override string ToString() => $"tensor on {Storage}";
}
