namespace ReClip.Model.Data;

/// <summary>
/// The first class name of a vocabulary that repeats an earlier one. Names are compared trimmed and in lower case, as
/// CLIP's tokenizer reads them: two such classes would get the same prompts, tied logits, and argmax would never
/// choose the second.
/// </summary>
public static class RepeatedClassName
{
    /// <summary>(index of the earlier name, index of its repeat), or null when all names differ.</summary>
    public static (int First, int Again)? Find(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < names.Count; i++)
        {
            string name = names[i].Trim();
            if (!seen.TryAdd(name, i))
                return (seen[name], i);
        }
        return null;
    }
}
