using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// CLIP's image tower: the standard pooled embedding (class token → ln_post → proj) and the MaskCLIP dense
/// path of spec §4. Input images are [B, 3, H, W], already normalised (<see cref="ClipImage"/>, or
/// <see cref="Data.DatasetNormalization"/> in the training and evaluation pipeline); any H, W
/// (zero padding on the bottom/right to a multiple of the patch size, spec §4.1). It computes on the device of its
/// weights (<see cref="ClipWeights.ToDevice"/>) and returns its results on the device of the image.
/// </summary>
/// <param name="weights">The frozen CLIP weights (not owned).</param>
/// <param name="blockEps">LayerNorm eps of ln_1/ln_2 in every visual block: 1e-5 for stock CLIP,
/// <see cref="ResidualBlock.MaskClipVisualEps"/> in the ReCLIP++ setting (spec §4.2). ln_pre and ln_post keep 1e-5.</param>
public sealed class VisionTransformer(ClipWeights weights, float blockEps = ResidualBlock.DefaultEps)
{
    private readonly ClipWeights weights = weights ?? throw new ArgumentNullException(nameof(weights));

    public ClipConfig Config => weights.Config;

    public float BlockEps { get; } = blockEps;

    /// <summary>Where the tower computes: the device of its weights. Inputs elsewhere are copied there, and results back.</summary>
    public Device Device => weights.PatchWeight.Device;

    /// <summary>
    /// The pooled image embedding [B, E] (not normalised), as CLIP's encode_image.
    /// <paramref name="observe"/> sees "patch_embedding" [B, N, D], "ln_pre" and "block{i}" [B, 1 + N, D].
    /// </summary>
    public Tensor Encode(Tensor image, Action<string, Tensor>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        using Tensor input = DeviceTransfer.Onto(image, Device);
        using Tensor x = Embed(input, out _, out _, out Tensor grid, observe);
        grid.Dispose();
        for (int i = 0; i < Config.VisionLayers; i++)
        {
            ResidualBlock.Forward(weights.VisionBlocks[i], x, causal: false, BlockEps);
            observe?.Invoke($"block{i}", x);
        }
        int batch = x.Size(0), width = Config.VisionWidth;
        using Tensor classRows = Tensor.Empty([batch, width], DType.F32, x.Device);
        // Row 0 of every sequence: the gather the text tower uses for its EOT rows.
        EotGather.Forward(x, new int[batch], classRows);
        LayerNorm.Forward(classRows, weights["visual.ln_post.weight"], weights["visual.ln_post.bias"], classRows, ResidualBlock.DefaultEps);
        Tensor pooled = Tensor.Empty([batch, Config.EmbedDim], DType.F32, x.Device);
        MatMul.Multiply(classRows, weights.VisualProjection, pooled);
        return DeviceTransfer.MoveTo(pooled, image.Device);
    }

    /// <summary>
    /// The MaskCLIP dense features of spec §4: blocks 0..L−2 as usual, then block L−1's value path
    /// v' = x + out_proj(v_proj(ln_1(x))), v'' = v' + MLP(ln_2(v')), ln_post, class token dropped, proj per
    /// patch, L2 normalisation per patch. The class token is the weights' (ReCLIP++ puts its own there, spec §2.3:
    /// <see cref="ClipWeights.ReplaceClassEmbedding"/>). Block L−1's ordinary attention path is not run: in the
    /// authors' code it only feeds the unused global feature (spec §4.3, §14 "minimal").
    /// </summary>
    public DenseFeatures EncodeDense(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using Tensor input = DeviceTransfer.Onto(image, Device);
        using Tensor x = Embed(input, out int rows, out int columns, out Tensor grid, null);
        Tensor? features = null;
        try
        {
            for (int i = 0; i < Config.VisionLayers - 1; i++)
                ResidualBlock.Forward(weights.VisionBlocks[i], x, causal: false, BlockEps);
            ValuePath(weights.VisionBlocks[Config.VisionLayers - 1], x);
            int batch = x.Size(0), patches = x.Size(1) - 1;
            LayerNorm.Forward(x, weights["visual.ln_post.weight"], weights["visual.ln_post.bias"], x, ResidualBlock.DefaultEps);
            features = Tensor.Empty([batch, patches, Config.EmbedDim], DType.F32, x.Device);
            // The class token is dropped: each image's rows 1..N, projected in one batched GEMM.
            using (Tensor patchRows = x.Slice(1, 1, patches))
                MatMul.MultiplyEach(patchRows, weights.VisualProjection, features);
            L2Normalize.Forward(features, features);
            grid = DeviceTransfer.MoveTo(grid, image.Device);
            features = DeviceTransfer.MoveTo(features, image.Device);
            return new DenseFeatures(features, grid, rows, columns);
        }
        catch
        {
            features?.Dispose();
            grid.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Spec §4.1: patch tokens, class token prepended, positional embedding (grid part resized bicubically to
    /// the input's grid, the identity at the training size) added, ln_pre. Returns x [B, 1 + h·w, Dv] and the
    /// resized grid [h·w, Dv].
    /// </summary>
    private Tensor Embed(Tensor image, out int rows, out int columns, out Tensor grid, Action<string, Tensor>? observe)
    {
        if (image.Rank != 4 || image.Size(1) != 3)
            throw new TensorShapeException($"VisionTransformer: image {Shape.Format(image.Shape)} is not [B, 3, H, W]");
        int width = Config.VisionWidth, g = Config.VisionGrid;
        (rows, columns) = PatchEmbedding.Grid(image.Size(2), image.Size(3), Config.PatchSize);
        int batch = image.Size(0), patches = rows * columns;
        Device device = image.Device;
        using Tensor tokens = Tensor.Empty([batch, patches, width], DType.F32, device);
        PatchEmbedding.Forward(image, weights.PatchWeight, tokens);
        observe?.Invoke("patch_embedding", tokens);

        grid = Tensor.Empty([rows, columns, width], DType.F32, device);
        using (Tensor pe = weights.VisualPositional.Slice(0, 1, g * g))
        using (Tensor source = pe.Reshape(g, g, width))
            BicubicResize.ForwardChannelsLast(source, grid);
        Tensor flatGrid = grid.Reshape(patches, width);
        grid.Dispose();
        grid = flatGrid;

        Tensor x = Tensor.Empty([batch, 1 + patches, width], DType.F32, device);
        using (Tensor classPosition = weights.VisualPositional.Slice(0, 0, 1))
            ClassTokenSequence.Forward(tokens, grid, weights.ClassEmbedding, classPosition, x);
        LayerNorm.Forward(x, weights["visual.ln_pre.weight"], weights["visual.ln_pre.bias"], x, ResidualBlock.DefaultEps);
        observe?.Invoke("ln_pre", x);
        return x;
    }

    /// <summary>Spec §4.3: x ← v' + MLP(ln_2(v')), v' = x + out_proj(v_proj(ln_1(x))); no attention.</summary>
    private void ValuePath(TransformerBlockWeights w, Tensor x)
    {
        int width = x.Size(2);
        using Tensor y = Tensor.Empty(x.Shape, DType.F32, x.Device);
        using Tensor v = Tensor.Empty(x.Shape, LinearInput.TypeFor(w), x.Device);
        using (LinearInput normed = new(w, y))
        {
            LayerNorm.Forward(x, w.Ln1Weight, w.Ln1Bias, normed.Tensor, BlockEps);
            Linear.Forward(normed.Tensor, w.InProjWeight, w.InProjBias, v, firstOut: 2 * width);
        }
        Linear.ForwardAdding(v, w.OutProjWeight, w.OutProjBias, x, y);
        ResidualBlock.Mlp(w, x, y, BlockEps, null);
    }
}
