namespace ReClip.Kernels.Checks;

/// <summary>
/// Every op's self-check, in one list: the tests and `reclip selfcheck` iterate it, and a test fails when a
/// class in ReClip.Kernels.Ops has no entry here — an op cannot be added without its check.
/// </summary>
public static class OpCatalog
{
    public static IReadOnlyList<IOpCheck> All { get; } =
    [
        new LayerNormCheck(),
        new MatMulCheck(),
        new BFloat16ConvertCheck(),
        new PatchEmbeddingCheck(),
        new ClassTokenSequenceCheck(),
        new BicubicResizeCheck(),
        new BilinearResizeCheck(),
        new Conv2dCheck(),
        new BatchNorm2dCheck(),
        new RectifyCheck(),
        new GumbelSoftmaxCheck(),
        new MaskedPoolingLossCheck(),
        new SgdCheck(),
        new PromptEmbeddingCheck(),
        new TokenEmbeddingCheck(),
        new EotGatherCheck(),
        new QuickGeluCheck(),
        new SoftmaxCheck(),
        new AddCheck(),
        new L2NormalizeCheck(),
        new ArgmaxCheck(),
        new ConfusionMatrixCheck(),
        new AttentionCheck(),
        new PlaneTransposeCheck(),
        new ColumnSumCheck(),
        new RowMeanCheck(),
        new FiniteCheckCheck(),
    ];
}
