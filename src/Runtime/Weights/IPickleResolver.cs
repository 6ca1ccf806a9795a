namespace ReClip.Runtime.Weights;

/// <summary>
/// What a pickle may refer to beyond plain values: the globals it names, the callables REDUCE may apply
/// and the objects persistent ids stand for. The resolver is the allow-list; whatever it does not know
/// it refuses by throwing <see cref="PickleRefusedException"/>.
/// </summary>
internal interface IPickleResolver
{
    /// <summary>Called at GLOBAL and STACK_GLOBAL, before the value can be used in any way.</summary>
    object ResolveGlobal(string module, string name);

    /// <summary>REDUCE: applies an allow-listed callable that <see cref="ResolveGlobal"/> returned to its arguments.</summary>
    object? Apply(object? callable, object?[] arguments);

    /// <summary>BINPERSID: the object a persistent id stands for (in PyTorch, a storage record).</summary>
    object PersistentLoad(object? id);
}
