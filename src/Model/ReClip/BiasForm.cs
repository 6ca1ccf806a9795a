namespace ReClip.Model.ReClip;

/// <summary>
/// Which of CLIP's two biases a head subtracts from the Query logits (spec §5–6). The method removes both; the other
/// two are the paper's ablation of the effect of each bias (spec §11), which its code does not contain: the class bias
/// alone averages the positional feature P over the patches (every patch gets the same bias for a class), the space
/// bias alone averages the Reference features R over the classes (every class gets the same bias at a patch). Each
/// average is broadcast back to the rows it was taken over, so the bias keeps its shape [N, C].
/// </summary>
public enum BiasForm
{
    /// <summary>P·Rᵀ: ReCLIP++ itself.</summary>
    Both,

    /// <summary>P̄·Rᵀ, P̄ the mean of P's rows.</summary>
    ClassOnly,

    /// <summary>P·R̄ᵀ, R̄ the mean of R's rows.</summary>
    SpaceOnly,
}

/// <summary>The names of <see cref="BiasForm"/> on the command line and in checkpoints: both, class, space.</summary>
public static class BiasForms
{
    private static readonly string[] Spelled = ["both", "class", "space"];

    public static IReadOnlyList<string> Names => Spelled;

    public static string Name(this BiasForm form) => Spelled[(int)form];

    /// <summary>The form of <paramref name="name"/>, or null when it names none.</summary>
    public static BiasForm? Parse(string name) => Array.IndexOf(Spelled, name) is int index and >= 0 ? (BiasForm)index : null;
}
