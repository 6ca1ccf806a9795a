namespace ReClip.Runtime.Weights;

/// <summary>
/// A class named by a pickle that may only be instantiated as an inert attribute bag (a TorchScript
/// module class such as <c>__torch__.torch.nn.modules.linear Linear</c>); it has no behaviour.
/// </summary>
internal sealed record PickleClass(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>
/// An instance of a <see cref="PickleClass"/>: NEWOBJ makes it empty and BUILD fills its attributes
/// from a dict. Nothing is ever called on it; readers walk its attributes.
/// </summary>
internal sealed class PickleObject(PickleClass type)
{
    public PickleClass Type { get; } = type;

    public PickleDict Attributes { get; } = new();
}
