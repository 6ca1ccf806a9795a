using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// LayerNorm over the last dimension: y = (x − μ)·σ⁻¹·γ + β with μ, σ² the row's mean and biased
/// variance and σ⁻¹ = 1/√(σ² + eps). CLIP uses eps 1e-5, the visual blocks of the ReCLIP++ ViT 1e-6
/// (spec §4.2). Forward saves μ and σ⁻¹ per row for the backward pass, which gives the input gradient
/// (the path to the Reference context vectors through the frozen text encoder) and, on request, γ and β gradients.
/// </summary>
public static partial class LayerNorm
{
    /// <summary>The definition, in double precision. x, y: [rows·width]; mean, rstd: [rows].</summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, float eps)
    {
        int width = gamma.Length, rows = x.Length / width;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * width, width);
            double mu = 0, variance = 0;
            foreach (float v in row) mu += v;
            mu /= width;
            foreach (float v in row) variance += (v - mu) * (v - mu);
            double inverse = 1 / Math.Sqrt(variance / width + eps);
            for (int i = 0; i < width; i++)
                y[r * width + i] = (float)((row[i] - mu) * inverse * gamma[i] + beta[i]);
            mean[r] = (float)mu;
            rstd[r] = (float)inverse;
        }
    }

    /// <summary>
    /// The definition of the backward pass: with x̂ = (x − μ)σ⁻¹ and g = dy·γ,
    /// dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)); dγ = Σ_rows dy·x̂; dβ = Σ_rows dy.
    /// </summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        int width = gamma.Length, rows = x.Length / width;
        double[] gammaSum = new double[width], betaSum = new double[width];
        for (int r = 0; r < rows; r++)
        {
            double gMean = 0, gxMean = 0;
            for (int i = 0; i < width; i++)
            {
                double xhat = (x[r * width + i] - mean[r]) * (double)rstd[r];
                double g = dy[r * width + i] * (double)gamma[i];
                gMean += g;
                gxMean += g * xhat;
                gammaSum[i] += dy[r * width + i] * xhat;
                betaSum[i] += dy[r * width + i];
            }
            gMean /= width;
            gxMean /= width;
            for (int i = 0; i < width; i++)
            {
                double xhat = (x[r * width + i] - mean[r]) * (double)rstd[r];
                dx[r * width + i] = (float)(rstd[r] * (dy[r * width + i] * (double)gamma[i] - gMean - xhat * gxMean));
            }
        }
        for (int i = 0; i < width; i++)
        {
            if (!dgamma.IsEmpty) dgamma[i] = (float)gammaSum[i];
            if (!dbeta.IsEmpty) dbeta[i] = (float)betaSum[i];
        }
    }

    /// <summary>
    /// y = LayerNorm(x); <paramref name="mean"/> and <paramref name="rstd"/> ([rows]) receive the saved statistics when given.
    /// y may be bfloat16 (rounded from the float32 result) when it only feeds a bfloat16 linear. <paramref name="keep"/>
    /// (x's shape, apart from x and y), when given, receives a copy of x in the same pass: a block's input kept for its
    /// backward, where the residual stream then changes in place.
    /// </summary>
    public static void Forward(Tensor x, Tensor gamma, Tensor beta, Tensor y, float eps, Tensor? mean = null, Tensor? rstd = null, Tensor? keep = null)
    {
        int width = gamma.Size(-1);
        int rows = Rows("LayerNorm", x, gamma, y);
        Shape.Require("LayerNorm beta", [width], beta.Shape);
        if (mean is not null) Shape.Require("LayerNorm mean", [rows], mean.Shape);
        if (rstd is not null) Shape.Require("LayerNorm rstd", [rows], rstd.Shape);
        if (keep is not null)
        {
            Shape.Require("LayerNorm keep", x.Shape, keep.Shape);
            if (ReferenceEquals(keep.Storage, x.Storage) || ReferenceEquals(keep.Storage, y.Storage))
                throw new ArgumentException("LayerNorm: the copy of x goes to a tensor apart from x and y", nameof(keep));
        }
        if (!x.Device.IsCpu)
        {
            ForwardCuda(x, gamma, beta, y, eps, mean, rstd, keep, rows, width);
            return;
        }
        if (y.DType == DType.BF16)
        {
            BFloat16Convert.ThroughFloat32(y, scratch => Forward(x, gamma, beta, scratch, eps, mean, rstd, keep));
            return;
        }
        OpGuard.Cpu("LayerNorm", x, gamma, beta, y);
        if (mean is not null) OpGuard.Cpu("LayerNorm mean", mean);
        if (rstd is not null) OpGuard.Cpu("LayerNorm rstd", rstd);
        if (keep is not null) OpGuard.Cpu("LayerNorm keep", keep);
        unsafe
        {
            float* px = x.Pointer<float>(), py = y.Pointer<float>(), pg = gamma.Pointer<float>(), pb = beta.Pointer<float>();
            float* pm = mean is null ? null : mean.Pointer<float>(), pr = rstd is null ? null : rstd.Pointer<float>();
            float* pk = keep is null ? null : keep.Pointer<float>();
            nint ax = (nint)px, ay = (nint)py, ag = (nint)pg, ab = (nint)pb, am = (nint)pm, ar = (nint)pr, ak = (nint)pk;
            ParallelRows.For(rows, width, (start, end) =>
            {
                var g = new ReadOnlySpan<float>((float*)ag, width);
                var b = new ReadOnlySpan<float>((float*)ab, width);
                for (int r = start; r < end; r++)
                {
                    var row = new ReadOnlySpan<float>((float*)ax + (long)r * width, width);
                    var output = new Span<float>((float*)ay + (long)r * width, width);
                    if (ak != 0) row.CopyTo(new Span<float>((float*)ak + (long)r * width, width));
                    float mu = TensorPrimitives.Sum(row) / width;
                    // Two passes (mean, then squared deviations) as PyTorch does, not E[x²] − μ², which cancels badly.
                    TensorPrimitives.Subtract(row, mu, output);
                    float inverse = 1 / MathF.Sqrt(TensorPrimitives.SumOfSquares(output) / width + eps);
                    TensorPrimitives.Multiply(output, inverse, output);
                    TensorPrimitives.FusedMultiplyAdd(output, g, b, output);
                    if (am != 0) ((float*)am)[r] = mu;
                    if (ar != 0) ((float*)ar)[r] = inverse;
                }
            });
        }
    }

    /// <summary>dx from dy and the forward's saved statistics; dγ, dβ ([width]) accumulated over rows when given. dx may be dy.</summary>
    public static void Backward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor? dgamma = null, Tensor? dbeta = null) =>
        Backward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, accumulate: false);

    /// <summary>
    /// dx += the input gradient (a residual stream's, its block's input gradient joining it): the same values as
    /// <see cref="Backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor?, Tensor?)"/> into a buffer, then
    /// added, without the buffer or the second pass. dx must not share dy's storage.
    /// </summary>
    public static void BackwardAdding(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx)
    {
        if (ReferenceEquals(dx.Storage, dy.Storage))
            throw new ArgumentException("LayerNorm.BackwardAdding: dx adds to itself, so it cannot share dy's storage", nameof(dx));
        Backward(dy, x, gamma, mean, rstd, dx, null, null, accumulate: true);
    }

    private static void Backward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor? dgamma, Tensor? dbeta, bool accumulate)
    {
        int width = gamma.Size(-1);
        int rows = Rows("LayerNorm.Backward", x, gamma, dx);
        Shape.Require("LayerNorm.Backward dy", x.Shape, dy.Shape);
        Shape.Require("LayerNorm.Backward mean", [rows], mean.Shape);
        Shape.Require("LayerNorm.Backward rstd", [rows], rstd.Shape);
        if (dgamma is not null) Shape.Require("LayerNorm.Backward dgamma", [width], dgamma.Shape);
        if (dbeta is not null) Shape.Require("LayerNorm.Backward dbeta", [width], dbeta.Shape);
        if (!x.Device.IsCpu)
        {
            BackwardCuda(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, width, accumulate);
            return;
        }
        OpGuard.Cpu("LayerNorm.Backward", dy, x, gamma, mean, rstd, dx);
        // dγ and dβ first: they read dy, which dx may be (in place).
        if (dgamma is not null || dbeta is not null)
            ParameterGradients(dy, x, mean, rstd, dgamma, dbeta, rows, width);
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), ax = (nint)x.Pointer<float>(), ag = (nint)gamma.Pointer<float>();
            nint am = (nint)mean.Pointer<float>(), ar = (nint)rstd.Pointer<float>(), adx = (nint)dx.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                var g = new ReadOnlySpan<float>((float*)ag, width);
                float[] scratch = new float[width];
                float[]? values = accumulate ? new float[width] : null;
                for (int r = start; r < end; r++)
                {
                    var grad = new ReadOnlySpan<float>((float*)ady + (long)r * width, width);
                    var row = new ReadOnlySpan<float>((float*)ax + (long)r * width, width);
                    var output = new Span<float>((float*)adx + (long)r * width, width);
                    Span<float> gradient = values ?? output;
                    float mu = ((float*)am)[r], inverse = ((float*)ar)[r];
                    // scratch = x̂, gradient = g = dy·γ, then σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)): dx, or added to it.
                    TensorPrimitives.Subtract(row, mu, scratch);
                    TensorPrimitives.Multiply(scratch, inverse, scratch);
                    TensorPrimitives.Multiply(grad, g, gradient);
                    float gMean = TensorPrimitives.Sum(gradient) / width;
                    float gxMean = TensorPrimitives.Dot(gradient, scratch) / width;
                    TensorPrimitives.Subtract(gradient, gMean, gradient);
                    TensorPrimitives.MultiplyAdd(scratch, -gxMean, gradient, gradient);
                    TensorPrimitives.Multiply(gradient, inverse, gradient);
                    if (accumulate)
                        TensorPrimitives.Add(output, gradient, output);
                }
            });
        }
    }

    /// <summary>dγ and dβ are sums over all rows, so they are reduced serially in row order (deterministic).</summary>
    private static unsafe void ParameterGradients(Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor? dgamma, Tensor? dbeta, int rows, int width)
    {
        Span<float> gammaSum = dgamma is null ? [] : dgamma.AsSpan<float>();
        Span<float> betaSum = dbeta is null ? [] : dbeta.AsSpan<float>();
        gammaSum.Clear();
        betaSum.Clear();
        float[] xhat = new float[width];
        float* pdy = dy.Pointer<float>(), px = x.Pointer<float>(), pm = mean.Pointer<float>(), pr = rstd.Pointer<float>();
        for (int r = 0; r < rows; r++)
        {
            var grad = new ReadOnlySpan<float>(pdy + (long)r * width, width);
            if (!betaSum.IsEmpty) TensorPrimitives.Add(betaSum, grad, betaSum);
            if (gammaSum.IsEmpty) continue;
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(px + (long)r * width, width), pm[r], xhat);
            TensorPrimitives.Multiply(xhat, pr[r], xhat);
            TensorPrimitives.MultiplyAdd(grad, xhat, gammaSum, gammaSum);
        }
    }

    /// <summary>Checks that x and its same-shaped output end in gamma's width; returns the number of rows.</summary>
    private static int Rows(string op, Tensor x, Tensor gamma, Tensor output)
    {
        int width = gamma.Size(-1);
        Shape.Require(op + " gamma", [width], gamma.Shape);
        Shape.Require(op, x.Shape, output.Shape);
        if (x.Size(-1) != width)
            throw new TensorShapeException($"{op}: last dimension of {Shape.Format(x.Shape)} does not match gamma {Shape.Format(gamma.Shape)}");
        return (int)(x.ElementCount / width);
    }
}
