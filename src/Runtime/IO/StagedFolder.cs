namespace ReClip.Runtime.IO;

/// <summary>
/// A folder filled in full under a hidden temporary name beside its destination, then renamed into place by
/// <see cref="Commit"/>: in the same parent the rename is atomic, so readers see no folder or the complete one. Disposing
/// an uncommitted one deletes it with everything in it, so a failure or an interruption part-way leaves nothing.
/// </summary>
/// <remarks>
/// A destination that already holds something is refused rather than replaced: it may be an earlier dataset or
/// anything else the user pointed at by mistake, and removing it would lose work that no message could bring back.
/// An empty folder holds nothing to lose and takes the output: the staged entries move into it, so that it keeps what the
/// user may rely on (its permissions, a shell working in it), and a reader may see them arrive one by one.
/// </remarks>
public sealed class StagedFolder : IDisposable
{
    private readonly string? firstCreated;
    private bool settled;

    private StagedFolder(string destination, string staging, string? firstCreated)
    {
        Destination = destination;
        Staging = staging;
        this.firstCreated = firstCreated;
    }

    /// <summary>The full path the folder gets on <see cref="Commit"/>.</summary>
    public string Destination { get; }

    /// <summary>The hidden folder being filled.</summary>
    public string Staging { get; }

    public static StagedFolder Create(string destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        OutputPath.CheckFolder(full);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new OutputPathException($"{full} already exists and is not empty: give a new or an empty folder");
        string parent = Path.GetDirectoryName(full) ?? throw new OutputPathException($"{full} is a file system's root, not a folder to create");
        string? firstCreated = null;
        for (string? missing = parent; missing is not null && !Directory.Exists(missing); missing = Path.GetDirectoryName(missing))
            firstCreated = missing;
        OutputPath.CreateCheckedFolder(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        OutputPath.CreateCheckedFolder(staging);
        return new StagedFolder(full, staging, firstCreated);
    }

    /// <summary>
    /// Runs <paramref name="write"/> on the staging folder. A failure that names a path in it is reported with the
    /// destination's path instead: the staging folder is deleted by then, and the destination is what the user asked for.
    /// </summary>
    public void Fill(Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            write(Staging);
        }
        catch (IOException e) when (e.Message.Contains(Staging, StringComparison.Ordinal))
        {
            string message = e.Message.Replace(Staging, Destination, StringComparison.Ordinal);
            // The type decides the exit code: a path the user gave stays "bad input", the system's failure stays a failure.
            throw e is OutputPathException ? new OutputPathException(message, e) : new IOException(message, e);
        }
    }

    public void Commit()
    {
        if (settled)
            throw new InvalidOperationException($"{Destination}: the staged folder was already committed or discarded");
        if (!Directory.Exists(Destination))
            Directory.Move(Staging, Destination);
        else
        {
            // The folder was empty at Create; an entry that appeared in it since makes its move fail rather than be replaced.
            foreach (string entry in Directory.EnumerateFileSystemEntries(Staging).Order(StringComparer.Ordinal))
            {
                string target = Path.Combine(Destination, Path.GetFileName(entry));
                if (Directory.Exists(entry))
                    Directory.Move(entry, target);
                else
                    File.Move(entry, target, overwrite: false);
            }
            Directory.Delete(Staging);
        }
        settled = true;
    }

    /// <summary>An uncommitted folder is deleted, and so are the parent folders <see cref="Create"/> made for it while they stay empty.</summary>
    public void Dispose()
    {
        if (settled) return;
        if (Directory.Exists(Staging))
            Directory.Delete(Staging, recursive: true);
        settled = true;
        if (firstCreated is null)
            return;
        for (string? folder = Path.GetDirectoryName(Staging); folder is not null && folder.Length >= firstCreated.Length; folder = Path.GetDirectoryName(folder))
        {
            if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any())
                return;
            Directory.Delete(folder);
        }
    }
}
