using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// destination[p, j, i] = source[p, i, j]: every plane of source [P, R, C] transposed into destination [P, C, R].
/// Either side may be a view whose rows are contiguous (last stride 1) at any row and plane stride, such as a range
/// of channels of the mask decoder's input [B, E + C, h·w] (spec §6.2): the decoder fills its channel ranges and
/// reads the rectified logits' gradient back out of them without copies. Copies only, so every device gives the
/// same bits.
/// </summary>
public static partial class PlaneTranspose
{
    /// <summary>The definition on contiguous planes: source [P·R·C], destination [P·C·R].</summary>
    public static void Reference(ReadOnlySpan<float> source, Span<float> destination, int planes, int rows, int columns)
    {
        int plane = rows * columns;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                    destination[p * plane + j * rows + i] = source[p * plane + i * columns + j];
    }

    /// <summary>destination [P, C, R] = each plane of source [P, R, C] transposed; both float32 on one device, rows contiguous.</summary>
    public static unsafe void Forward(Tensor source, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.Rank != 3)
            throw new TensorShapeException($"PlaneTranspose: source {Shape.Format(source.Shape)} is not [P, R, C]");
        int planes = source.Size(0), rows = source.Size(1), columns = source.Size(2);
        Shape.Require("PlaneTranspose destination", [planes, columns, rows], destination.Shape);
        RequireRowViews(source, destination);
        if (planes == 0 || rows == 0 || columns == 0) return;
        if (!destination.Device.IsCpu)
        {
            ForwardCuda(source, destination, planes, rows, columns);
            return;
        }
        float* from = source.Pointer<float>(), to = destination.Pointer<float>();
        long sourcePlane = source.Strides[0], sourceRow = source.Strides[1], destinationPlane = destination.Strides[0], destinationRow = destination.Strides[1];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < rows; i++)
            {
                float* row = from + p * sourcePlane + i * sourceRow, column = to + p * destinationPlane + i;
                for (int j = 0; j < columns; j++)
                    column[j * destinationRow] = row[j];
            }
    }

    /// <summary>Both tensors float32 on one device, each a view whose last dimension is contiguous.</summary>
    private static void RequireRowViews(Tensor source, Tensor destination)
    {
        if (source.Device != destination.Device)
            throw new ArgumentException($"PlaneTranspose: {source} and {destination} are on different devices");
        // Blocks read tiles of the source while others write the destination: the two must not share memory.
        if (ReferenceEquals(source.Storage, destination.Storage))
            throw new ArgumentException($"PlaneTranspose: {destination} shares memory with its source; transpose into another tensor");
        foreach (Tensor tensor in (ReadOnlySpan<Tensor>)[source, destination])
        {
            if (tensor.DType != DType.F32)
                throw new ArgumentException($"PlaneTranspose: {tensor} holds {tensor.DType.Name()}; this op copies float32");
            if (tensor.Size(2) > 1 && tensor.Strides[2] != 1)
                throw new ArgumentException($"PlaneTranspose: {tensor} is a view whose rows are not contiguous");
        }
    }
}
