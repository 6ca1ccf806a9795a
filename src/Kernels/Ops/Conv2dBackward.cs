using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The backward pass of <see cref="Conv2d"/>: with columns_b the im2col of x_b,
/// dweight [Cout, Cin·k·k] = Σ_b dy_b [Cout, H·W] · columns_bᵀ, dbias[o] = Σ_{b,Y,X} dy[b, o, Y, X],
/// dx_b = col2im(weightᵀ [Cin·k·k, Cout] · dy_b). The decoder needs dx (its input holds the rectified
/// logits, whose gradient reaches the Reference prompt and pe_proj), pe_proj only the weight and bias.
/// </summary>
public static partial class Conv2d
{
    /// <summary>The definition, in double. Empty dx, dweight or dbias spans are skipped.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int batch, int height, int width, ReadOnlySpan<float> weight,
        int kernel, Span<float> dx, Span<float> dweight, Span<float> dbias)
    {
        int inChannels = x.Length / (batch * height * width), outChannels = weight.Length / (inChannels * kernel * kernel);
        int pad = kernel / 2;
        double[] inputSum = new double[dx.IsEmpty ? 0 : x.Length], weightSum = new double[dweight.IsEmpty ? 0 : weight.Length];
        double[] biasSum = new double[outChannels];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outChannels; o++)
                for (int oy = 0; oy < height; oy++)
                    for (int ox = 0; ox < width; ox++)
                    {
                        double grad = dy[((b * outChannels + o) * height + oy) * width + ox];
                        biasSum[o] += grad;
                        for (int c = 0; c < inChannels; c++)
                            for (int ky = 0; ky < kernel; ky++)
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int sy = oy + ky - pad, sx = ox + kx - pad;
                                    if (sy < 0 || sy >= height || sx < 0 || sx >= width) continue;
                                    int w = ((o * inChannels + c) * kernel + ky) * kernel + kx, i = ((b * inChannels + c) * height + sy) * width + sx;
                                    if (!dx.IsEmpty) inputSum[i] += grad * weight[w];
                                    if (!dweight.IsEmpty) weightSum[w] += grad * x[i];
                                }
                    }
        for (int i = 0; i < inputSum.Length; i++) dx[i] = (float)inputSum[i];
        for (int i = 0; i < weightSum.Length; i++) dweight[i] = (float)weightSum[i];
        if (!dbias.IsEmpty)
            for (int o = 0; o < outChannels; o++) dbias[o] = (float)biasSum[o];
    }

    /// <summary>
    /// Gradients of y = conv(x, weight) + bias from dy [B, Cout, H, W]; each of dx [B, Cin, H, W],
    /// dweight [Cout, Cin, k, k] and dbias [Cout] is computed only when given (and then overwritten).
    /// </summary>
    public static void Backward(Tensor dy, Tensor x, Tensor weight, Tensor? dx, Tensor? dweight, Tensor? dbias)
    {
        const string op = "Conv2d.Backward";
        var size = ConvSize.Of(op, x, weight, null);
        Shape.Require(op + " dy", [size.Batch, size.OutChannels, size.Height, size.Width], dy.Shape);
        if (dx is not null) Shape.Require(op + " dx", x.Shape, dx.Shape);
        if (dweight is not null) Shape.Require(op + " dweight", weight.Shape, dweight.Shape);
        if (dbias is not null) Shape.Require(op + " dbias", [size.OutChannels], dbias.Shape);
        if (!dy.Device.IsCpu)
        {
            BackwardCuda(dy, x, weight, dx, dweight, dbias, size);
            return;
        }
        OpGuard.Cpu(op, [dy, x, weight, .. new[] { dx, dweight, dbias }.OfType<Tensor>()]);
        int plane = size.Height * size.Width, depth = size.Depth;
        unsafe
        {
            float* pdy = dy.Pointer<float>();
            if (dbias is not null)
                BiasGradient(pdy, size, dbias.AsSpan<float>());
            if (dx is null && dweight is null) return;
            if (size.Batch == 0 && dweight is not null) dweight.AsSpan<float>().Clear();
            // One buffer serves as the columns of x (for dweight) and then as their gradient (for dx).
            float[]? columns = size.Kernel == 1 ? null : ArrayPool<float>.Shared.Rent(depth * plane);
            try
            {
                fixed (float* pColumns = columns)
                {
                    float* px = x.Pointer<float>(), pw = weight.Pointer<float>();
                    for (int b = 0; b < size.Batch; b++)
                    {
                        float* input = px + (long)b * size.InChannels * plane, grad = pdy + (long)b * size.OutChannels * plane;
                        if (dweight is not null)
                        {
                            if (columns is not null) ConvColumns.Gather(input, pColumns, size);
                            // columns_bᵀ: the columns are stored [depth, H·W], i.e. N×K for this product.
                            Sgemm.Multiply(size.OutChannels, depth, plane, 1, new GemmOperand(grad, plane, transposed: false),
                                new GemmOperand(columns is null ? input : pColumns, plane, transposed: true), b == 0 ? 0 : 1, dweight.Pointer<float>(), depth);
                        }
                        if (dx is not null)
                        {
                            float* inputGrad = dx.Pointer<float>() + (long)b * size.InChannels * plane;
                            // weightᵀ: the weight is stored [Cout, depth], i.e. K×M for this product.
                            Sgemm.Multiply(depth, plane, size.OutChannels, 1, new GemmOperand(pw, depth, transposed: true),
                                new GemmOperand(grad, plane, transposed: false), 0, columns is null ? inputGrad : pColumns, plane);
                            if (columns is not null) ConvColumns.Scatter(pColumns, inputGrad, size);
                        }
                    }
                }
            }
            finally
            {
                if (columns is not null) ArrayPool<float>.Shared.Return(columns);
            }
        }
    }

    /// <summary>dbias[o] = Σ over images and positions of dy[b, o]: float sums per plane, added up in double over the batch.</summary>
    private static unsafe void BiasGradient(float* dy, ConvSize size, Span<float> dbias)
    {
        int plane = size.Height * size.Width;
        for (int o = 0; o < size.OutChannels; o++)
        {
            double sum = 0;
            for (int b = 0; b < size.Batch; b++)
                sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(dy + ((long)b * size.OutChannels + o) * plane, plane));
            dbias[o] = (float)sum;
        }
    }
}
