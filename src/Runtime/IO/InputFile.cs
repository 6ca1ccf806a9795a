namespace ReClip.Runtime.IO;

/// <summary>Checks a path before it is read, so that a missing file and a folder given for a file are told apart by name.</summary>
public static class InputFile
{
    /// <exception cref="FileNotFoundException">nothing is at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException"><paramref name="path"/> is a folder.</exception>
    public static void RequireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path))
            return;
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path} is a folder, not a file");
        throw new FileNotFoundException($"{path}: no such file", path);
    }
}
