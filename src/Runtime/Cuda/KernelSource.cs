namespace ReClip.Runtime.Cuda;

/// <summary>
/// One CUDA source file: its name (e.g. "layernorm"), its text, the template instantiations it must export
/// (name expressions such as "softmax_forward&lt;256&gt;"; plain extern "C" kernels need none), and the headers
/// it may #include, by name (NVRTC reads no files: the headers travel with the source).
/// </summary>
public sealed record KernelSource(string Name, string Code, IReadOnlyList<string> NameExpressions, IReadOnlyDictionary<string, string> Headers)
{
    public KernelSource(string name, string code, IReadOnlyList<string> nameExpressions)
        : this(name, code, nameExpressions, new Dictionary<string, string>())
    {
    }
}
