namespace ReClip.Runtime.IO;

/// <summary>
/// Checks a destination before anything is computed or written, so that a path that can never take the output fails
/// at once, with its name, instead of after minutes of work with the file system's wording (and a temporary name).
/// </summary>
public static class OutputPath
{
    /// <summary>Refuses a folder that is a file, or lies below one, or that could not be written in (a read-only file system).</summary>
    public static void CheckFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        if (FileAtOrAbove(full) is { } file)
            throw new OutputPathException(file == full ? $"{full} is a file, not a folder" : $"{full}: {file} is a file, not a folder");
        RequireWritable(full, full);
    }

    /// <summary>Refuses a file path that is a folder, or whose folder cannot be one or could not be written in.</summary>
    public static void CheckFile(string file)
    {
        string full = CheckFileLocation(file);
        if (Path.GetDirectoryName(full) is { } folder)
            RequireWritable(full, folder);
    }

    /// <summary>
    /// Where a file written to <paramref name="file"/> goes: its full path, or a symbolic link's final target, which is
    /// what writing through the link changes (a new file renamed over the link would replace the link itself).
    /// </summary>
    public static string Destination(string file)
    {
        string full = Path.GetFullPath(file);
        return new FileInfo(full).LinkTarget is null ? full : File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
    }

    /// <summary>
    /// <see cref="CheckFile"/> without trying to write in the folder: for a writer that is about to create the file and
    /// says itself why it cannot (<see cref="StagedFile"/>). Refuses a destination that is no regular file, or a file that
    /// is read-only, which a finished file renamed over it would replace. Returns the <see cref="Destination"/>.
    /// </summary>
    internal static string CheckFileLocation(string file)
    {
        string full = Destination(file);
        if (Directory.Exists(full))
            throw new OutputPathException($"{full} is a folder, not a file");
        if (Path.GetDirectoryName(full) is { } folder && FileAtOrAbove(folder) is { } blocking)
            throw new OutputPathException($"{full}: {blocking} is a file, not a folder");
        if (FileKind.Special(full) is string kind)
            throw new OutputPathException($"{full} is {kind}, not a regular file to write");
        if (File.Exists(full))
            RequireWritableFile(full);
        return full;
    }

    /// <summary>Opens an existing file for writing, without changing it: its permissions refuse that now, as they would refuse writing it.</summary>
    private static void RequireWritableFile(string full)
    {
        try
        {
            using (new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1)) { }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputPathException($"{full}: permission denied writing the file (it is read-only)", e);
        }
    }

    /// <summary>
    /// Creates and deletes a file in the deepest existing folder of <paramref name="folder"/>, where the output or the folders
    /// above it will be created: permissions and read-only mounts refuse that now rather than after the work.
    /// </summary>
    private static void RequireWritable(string target, string folder)
    {
        string? existing = folder;
        while (existing is not null && !Directory.Exists(existing))
            existing = Path.GetDirectoryName(existing);
        if (existing is null)
            return;
        string probe = Path.Combine(existing, $".reclip-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputPathException($"{target}: permission denied writing in {existing}", e);
        }
        catch (IOException e)
        {
            throw new OutputPathException($"{target}: cannot write in {existing} ({e.Message})", e);
        }
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
