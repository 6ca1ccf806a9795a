namespace ReClip.Runtime.Weights;

/// <summary>
/// Finds the tensors in an unpickled checkpoint and names them as PyTorch's <c>state_dict()</c> would:
/// dict keys and module attribute names joined by dots. A dict root that wraps its weights (open_clip's
/// <c>{"epoch": ..., "state_dict": {...}}</c>, or <c>{"model": {...}}</c>) exposes only the wrapped dict,
/// and a <c>module.</c> prefix that every name carries (left by DataParallel) is dropped. A file that pickles one tensor
/// alone (<c>torch.save(parameter)</c>, as ReCLIP++'s <c>utils/cls_token.pt</c>) has no name for it: it is listed as
/// <see cref="RootTensorName"/>.
/// </summary>
internal static class TorchStateDictWalker
{
    /// <summary>CLIP's deepest weight is six levels down; a deeper walk means a cycle or a crafted file.</summary>
    public const int MaxDepth = 64;

    /// <summary>Bounds the walk when a crafted pickle shares one container under many parents.</summary>
    public const int MaxVisits = 1 << 20;

    /// <summary>The name of the tensor of a file whose pickle is that tensor alone.</summary>
    public const string RootTensorName = "tensor";

    private const string ParallelPrefix = "module.";
    private static readonly string[] WrapperKeys = ["state_dict", "model"];

    public static IReadOnlyList<KeyValuePair<string, TorchTensorRecord>> Collect(object? root, string path)
    {
        if (root is TorchTensorRecord alone)
            return [KeyValuePair.Create(RootTensorName, alone)];
        var found = new List<KeyValuePair<string, TorchTensorRecord>>();
        int visits = 0;
        Walk(Unwrap(root), prefix: "", depth: 0, found, ref visits, path);
        if (found.Count > 0 && found.All(t => t.Key.StartsWith(ParallelPrefix, StringComparison.Ordinal)))
            found = found.ConvertAll(t => KeyValuePair.Create(t.Key[ParallelPrefix.Length..], t.Value));

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, _) in found)
            if (!names.Add(name))
                throw new WeightFileException(path, "two tensors have this name", name);
        return found;
    }

    private static object? Unwrap(object? root)
    {
        if (root is not PickleDict dict)
            return root;
        foreach (string key in WrapperKeys)
            if (dict.GetValueOrDefault(key) is PickleDict wrapped)
                return wrapped;
        return root;
    }

    /// <summary>Dicts and module attribute bags are walked; lists, numbers and strings hold no state-dict tensors.</summary>
    private static void Walk(object? node, string prefix, int depth, List<KeyValuePair<string, TorchTensorRecord>> found, ref int visits, string path)
    {
        if (++visits > MaxVisits)
            throw new WeightFileException(path, $"the pickle's object graph has more than {MaxVisits} nodes to walk");
        PickleDict? members = node switch
        {
            PickleDict dict => dict,
            PickleObject bag => bag.Attributes,
            _ => null,
        };
        if (members is null)
            return;
        if (depth >= MaxDepth)
            throw new WeightFileException(path, $"containers nest deeper than {MaxDepth} levels (a cycle?) under '{prefix}'");
        foreach ((object? key, object? value) in members.Items)
        {
            if (key is not string name)
                continue;
            string qualified = prefix + name;
            if (value is TorchTensorRecord tensor)
                found.Add(KeyValuePair.Create(qualified, tensor));
            else
                Walk(value, qualified + ".", depth + 1, found, ref visits, path);
        }
    }
}
