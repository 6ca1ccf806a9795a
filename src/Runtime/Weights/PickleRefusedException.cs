namespace ReClip.Runtime.Weights;

/// <summary>
/// A pickle used something the interpreter does not allow or could not make sense of. The interpreter
/// adds the entry and byte offset and turns it into a <see cref="WeightFileException"/>.
/// </summary>
internal sealed class PickleRefusedException(string problem) : Exception(problem);
