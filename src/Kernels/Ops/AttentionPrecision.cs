namespace ReClip.Kernels.Ops;

/// <summary>How <see cref="Attention.Forward"/> multiplies its operands.</summary>
public enum AttentionPrecision
{
    /// <summary>Float32 throughout (spec §4.7: the reference computes its encoders in float32).</summary>
    Float32,

    /// <summary>
    /// q, k and v rounded to bfloat16, products summed in float32, the softmax in float32: the precision of a tower whose
    /// linears run in bfloat16. On a GPU both products run on the tensor cores (kernels/attention64_bf16.cu: head dim 64,
    /// no prefix, compute capability 8.0 or later), which round the probabilities to bfloat16 as well; the CPU runs its
    /// float32 kernels on rounded copies of q, k and v.
    /// </summary>
    BFloat16,
}
