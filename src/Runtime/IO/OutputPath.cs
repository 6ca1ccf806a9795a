namespace ReClip.Runtime.IO;

/// <summary>
/// Checks a destination before anything is computed or written, so that a path that can never take the output fails
/// at once, with its name, instead of after minutes of work with the file system's wording (and a temporary name).
/// </summary>
public static class OutputPath
{
    /// <summary>Refuses a folder that is a file, or lies below one.</summary>
    public static void CheckFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        if (FileAtOrAbove(full) is { } file)
            throw new OutputPathException(file == full ? $"{full} is a file, not a folder" : $"{full}: {file} is a file, not a folder");
    }

    /// <summary>Refuses a file path that is a folder, or whose folder cannot be one.</summary>
    public static void CheckFile(string file)
    {
        string full = Path.GetFullPath(file);
        if (Directory.Exists(full))
            throw new OutputPathException($"{full} is a folder, not a file");
        if (Path.GetDirectoryName(full) is { } folder && FileAtOrAbove(folder) is { } blocking)
            throw new OutputPathException($"{full}: {blocking} is a file, not a folder");
    }

    /// <summary>Creates the folder (and its parents), or says which path is in the way and why.</summary>
    public static void CreateFolder(string folder)
    {
        CheckFolder(folder);
        CreateCheckedFolder(folder);
    }

    /// <summary><see cref="CreateFolder"/> for a folder whose ancestors were checked already.</summary>
    internal static void CreateCheckedFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputPathException($"{full}: permission denied creating the folder", e);
        }
        catch (IOException e) when (e is not OutputPathException)
        {
            throw new OutputPathException($"{full}: cannot create the folder ({e.Message})", e);
        }
    }

    private static string? FileAtOrAbove(string path)
    {
        for (string? ancestor = path; ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
            if (File.Exists(ancestor))
                return ancestor;
        return null;
    }
}
