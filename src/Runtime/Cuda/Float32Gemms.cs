namespace ReClip.Runtime.Cuda;

/// <summary>
/// How the float32 GEMMs a thread queues on a GPU multiply: in full float32 (the default, spec §4.7: the reference's
/// linears and matmuls), or on the TF32 tensor cores, each operand rounded to a 10-bit mantissa and the sums kept in
/// float32, as PyTorch computes with <c>torch.backends.cuda.matmul.allow_tf32 = True</c>. Per thread and scoped, like
/// PyTorch's autocast, so that a training run can ask for it without changing what other work (a Query bank that is
/// cached on disk, a test beside it) computes. A captured CUDA graph keeps the math its GEMMs were queued with.
/// bfloat16 operands and the CPU are not affected.
/// </summary>
public static class Float32Gemms
{
    [ThreadStatic]
    private static bool tensorFloat32;

    /// <summary>The precision a float32 GEMM queued by this thread runs in.</summary>
    public static GemmPrecision Precision => tensorFloat32 ? GemmPrecision.TensorFloat32 : GemmPrecision.Float32;

    /// <summary>Float32 GEMMs on TF32 tensor cores (<paramref name="on"/>) or in float32 until the scope is disposed, which restores the setting before it.</summary>
    public static Scope TensorFloat32(bool on = true)
    {
        var scope = new Scope(tensorFloat32);
        tensorFloat32 = on;
        return scope;
    }

    /// <summary>Restores the setting it was made over; dispose it on the thread that made it.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool previous;

        internal Scope(bool previous) => this.previous = previous;

        public void Dispose() => tensorFloat32 = previous;
    }
}
