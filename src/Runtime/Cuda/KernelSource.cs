namespace ReClip.Runtime.Cuda;

/// <summary>
/// One CUDA source file: its name (e.g. "layernorm"), its text, and the template instantiations it must
/// export (name expressions such as "softmax_forward&lt;256&gt;"; plain extern "C" kernels need none).
/// </summary>
public sealed record KernelSource(string Name, string Code, IReadOnlyList<string> NameExpressions);
