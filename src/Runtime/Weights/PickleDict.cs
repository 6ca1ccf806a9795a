namespace ReClip.Runtime.Weights;

/// <summary>
/// A Python dict (or OrderedDict) read from a pickle, in insertion order so tensors are listed in the
/// order the file wrote them. Keys compare by value for strings, numbers and booleans and by identity
/// for anything else, which is all a state dict needs.
/// </summary>
internal sealed class PickleDict
{
    private static readonly object NoneKey = new();
    private readonly List<KeyValuePair<object?, object?>> items = [];
    private readonly Dictionary<object, int> index = [];

    public IReadOnlyList<KeyValuePair<object?, object?>> Items => items;

    public void Set(object? key, object? value)
    {
        if (index.TryGetValue(key ?? NoneKey, out int at))
            items[at] = new(key, value);
        else
        {
            index.Add(key ?? NoneKey, items.Count);
            items.Add(new(key, value));
        }
    }

    public object? GetValueOrDefault(string key) => index.TryGetValue(key, out int at) ? items[at].Value : null;
}
