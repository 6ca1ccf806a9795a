namespace ReClip.Runtime.Weights;

/// <summary>
/// The arguments of torch._utils' rebuild functions, checked and turned into a <see cref="TorchTensorRecord"/>:
/// <c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])</c>,
/// the older <c>_rebuild_tensor(storage, storage_offset, size, stride)</c>, and
/// <c>_rebuild_parameter(data, requires_grad, backward_hooks)</c>, whose data is already a tensor.
/// Gradient flags, hooks and metadata do not matter for weights and are ignored.
/// </summary>
internal static class TorchTensorRebuild
{
    /// <summary>PyTorch itself caps tensors at 64 dimensions.</summary>
    public const int MaxRank = 64;

    public static TorchTensorRecord FromArguments(object?[] arguments, string function, int minCount, int maxCount)
    {
        if (arguments.Length < minCount || arguments.Length > maxCount)
            throw new PickleRefusedException($"{function} got {arguments.Length} arguments");
        if (arguments[0] is not TorchStorageRef storage)
            throw new PickleRefusedException($"{function} got {PickleMachine.Describe(arguments[0])} instead of a storage");
        if (arguments[1] is not long offset || offset < 0)
            throw new PickleRefusedException($"{function} got storage offset {PickleMachine.Describe(arguments[1])}");
        long[] size = Dimensions(arguments[2], function, "size");
        long[] stride = Dimensions(arguments[3], function, "stride");
        if (size.Length != stride.Length)
            throw new PickleRefusedException($"{function} got {size.Length} sizes and {stride.Length} strides");
        return new TorchTensorRecord(storage, offset, size, stride);
    }

    public static TorchTensorRecord ParameterData(object?[] arguments)
    {
        if (arguments.Length is < 1 or > 3 || arguments[0] is not TorchTensorRecord data)
            throw new PickleRefusedException("torch._utils._rebuild_parameter needs a tensor as its first argument");
        return data;
    }

    private static long[] Dimensions(object? value, string function, string what)
    {
        if (value is not object?[] tuple || tuple.Length > MaxRank)
            throw new PickleRefusedException($"{function} got {PickleMachine.Describe(value)} as its {what}, not a tuple of at most {MaxRank} ints");
        long[] dims = new long[tuple.Length];
        for (int i = 0; i < tuple.Length; i++)
        {
            if (tuple[i] is not long dim || dim < 0)
                throw new PickleRefusedException($"{function} got {PickleMachine.Describe(tuple[i])} in its {what}, not a non-negative int");
            dims[i] = dim;
        }
        return dims;
    }
}
