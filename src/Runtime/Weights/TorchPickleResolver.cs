namespace ReClip.Runtime.Weights;

/// <summary>
/// The allow-list for PyTorch checkpoint pickles (measured on what torch.save and torch.jit.save write):
/// <c>collections OrderedDict</c>, the tensor rebuild functions of <c>torch._utils</c>, the storage
/// classes and dtypes of <c>torch</c>, and, in TorchScript archives only, the <c>__torch__.*</c> module
/// classes as inert attribute bags, and the helpers with which TorchScript pickles typed lists and dicts and torch.save
/// a <c>torch.Size</c>, each of which hands back the container it is given. Every other global is refused at the GLOBAL
/// opcode, before anything could use it; REDUCE applies only the functions implemented here, which build records and
/// never touch code.
/// </summary>
internal sealed class TorchPickleResolver(bool allowModuleClasses) : IPickleResolver
{
    private enum Callable
    {
        OrderedDict,
        RebuildTensor,
        RebuildTensorV2,
        RebuildParameter,

        /// <summary>torch.jit._pickle.build_intlist and its kind: (list) → the list.</summary>
        TypedList,

        /// <summary>torch.jit._pickle.restore_type_tag: (value, type name) → the value.</summary>
        TypeTag,

        /// <summary>torch.Size: (tuple of ints) → the tuple.</summary>
        Size,
    }

    private sealed record AllowedCallable(Callable Kind, string QualifiedName)
    {
        public override string ToString() => QualifiedName;
    }

    private static readonly Dictionary<(string Module, string Name), AllowedCallable> Callables = new()
    {
        [("collections", "OrderedDict")] = new(Callable.OrderedDict, "collections.OrderedDict"),
        [("torch._utils", "_rebuild_tensor")] = new(Callable.RebuildTensor, "torch._utils._rebuild_tensor"),
        [("torch._utils", "_rebuild_tensor_v2")] = new(Callable.RebuildTensorV2, "torch._utils._rebuild_tensor_v2"),
        [("torch._utils", "_rebuild_parameter")] = new(Callable.RebuildParameter, "torch._utils._rebuild_parameter"),
        [("torch.jit._pickle", "build_intlist")] = new(Callable.TypedList, "torch.jit._pickle.build_intlist"),
        [("torch.jit._pickle", "build_doublelist")] = new(Callable.TypedList, "torch.jit._pickle.build_doublelist"),
        [("torch.jit._pickle", "build_boollist")] = new(Callable.TypedList, "torch.jit._pickle.build_boollist"),
        [("torch.jit._pickle", "build_tensorlist")] = new(Callable.TypedList, "torch.jit._pickle.build_tensorlist"),
        [("torch.jit._pickle", "restore_type_tag")] = new(Callable.TypeTag, "torch.jit._pickle.restore_type_tag"),
        [("torch", "Size")] = new(Callable.Size, "torch.Size"),
    };

    public object ResolveGlobal(string module, string name)
    {
        if (Callables.TryGetValue((module, name), out AllowedCallable? callable))
            return callable;
        if (module == "torch" && TorchScalarType.FromStorageClass(name) is TorchScalarType element)
            return new TorchStorageClass(element);
        if (module == "torch" && TorchScalarType.FromDTypeName(name) is TorchScalarType dtype)
            return dtype;
        if (module == "__torch__" || module.StartsWith("__torch__.", StringComparison.Ordinal))
        {
            if (allowModuleClasses)
                return new PickleClass(module, name);
            throw new PickleRefusedException($"global '{module}.{name}' is a TorchScript module class, allowed only in a TorchScript archive (one with constants.pkl and code/)");
        }
        throw new PickleRefusedException($"global '{module}.{name}' is not allowed: only tensors and plain containers are read (save model.state_dict(), not objects)");
    }

    public object? Apply(object? callable, object?[] arguments)
    {
        if (callable is not AllowedCallable allowed)
            throw new PickleRefusedException($"REDUCE cannot call {PickleMachine.Describe(callable)}; only tensor rebuilding and container builders are applied");
        return allowed.Kind switch
        {
            Callable.OrderedDict when arguments.Length == 0 => new PickleDict(),
            Callable.OrderedDict => throw new PickleRefusedException("collections.OrderedDict is called with arguments"),
            Callable.RebuildTensor => TorchTensorRebuild.FromArguments(arguments, "torch._utils._rebuild_tensor", 4, 4),
            Callable.RebuildTensorV2 => TorchTensorRebuild.FromArguments(arguments, "torch._utils._rebuild_tensor_v2", 6, 7),
            Callable.RebuildParameter => TorchTensorRebuild.ParameterData(arguments),
            Callable.TypedList when arguments is [List<object?> list] => list,
            Callable.TypeTag when arguments is [var value, string] => value,
            Callable.Size when arguments is [object?[] dimensions] => dimensions,
            Callable.TypedList or Callable.TypeTag or Callable.Size =>
                throw new PickleRefusedException($"{allowed} is called with {PickleMachine.Describe(arguments)}, not the container it rebuilds"),
            _ => throw new PickleRefusedException($"{allowed} has no implementation"),
        };
    }

    /// <summary>PyTorch's persistent id for a storage: <c>('storage', storage_class, key, location, numel)</c>; the location is irrelevant on load.</summary>
    public object PersistentLoad(object? id)
    {
        if (id is not object?[] { Length: 5 } fields || fields[0] is not "storage")
            throw new PickleRefusedException($"persistent id {PickleMachine.Describe(id)} is not a ('storage', type, key, location, numel) tuple");
        if (fields[1] is not TorchStorageClass storageClass)
            throw new PickleRefusedException($"a storage record names {PickleMachine.Describe(fields[1])} instead of a storage class");
        if (fields[2] is not string key || key.Length == 0 || !key.All(char.IsAsciiLetterOrDigit))
            throw new PickleRefusedException($"a storage record has key {PickleMachine.Describe(fields[2])}, not an alphanumeric string");
        if (fields[4] is not long count || count < 0)
            throw new PickleRefusedException($"storage '{key}' has element count {PickleMachine.Describe(fields[4])}");
        return new TorchStorageRef(key, storageClass.Element, count);
    }
}
