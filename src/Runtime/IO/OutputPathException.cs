namespace ReClip.Runtime.IO;

/// <summary>An output path that cannot take the file or folder asked of it: a bad argument of the user's, not a failure of ours.</summary>
public sealed class OutputPathException(string message, Exception? inner = null) : IOException(message, inner);
