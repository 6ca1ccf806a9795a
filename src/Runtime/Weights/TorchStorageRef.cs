namespace ReClip.Runtime.Weights;

/// <summary>A persistent id <c>('storage', storage_class, key, location, numel)</c>: the zip entry <c>data/key</c>.</summary>
internal sealed record TorchStorageRef(string Key, TorchScalarType Element, long ElementCount)
{
    public override string ToString() => $"storage '{Key}'";
}
