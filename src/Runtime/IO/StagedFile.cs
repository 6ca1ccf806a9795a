namespace ReClip.Runtime.IO;

/// <summary>
/// A file written in full under a temporary name in its destination's folder and flushed to disk; <see cref="Commit"/>
/// renames it over the destination, and disposing an uncommitted one deletes it. A command with several outputs stages
/// them all before committing any, so that a failure on the last leaves none of them half done.
/// </summary>
public sealed class StagedFile : IDisposable
{
    private readonly string destination, temporary;
    private bool settled;

    private StagedFile(string destination, string temporary)
    {
        this.destination = destination;
        this.temporary = temporary;
    }

    public static StagedFile Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = OutputPath.CheckFileLocation(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        OutputPath.CreateCheckedFolder(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        FileStream stream;
        try
        {
            stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputPathException($"{full}: permission denied writing in {directory}", e);
        }
        catch (IOException e)
        {
            // The system's message names the temporary file; a read-only file system is the likely cause here.
            throw new OutputPathException($"{full}: cannot create a file in {directory}", e);
        }
        var staged = new StagedFile(full, temporary);
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            return staged;
        }
        catch (IOException e) when (e.Message.Contains(temporary, StringComparison.Ordinal))
        {
            staged.Dispose();
            // The system names the temporary file (e.g. "No space left on device : '….tmp'"), which is gone by now.
            string reason = e.Message.Replace($" : '{temporary}'", "", StringComparison.Ordinal).Replace(temporary, full, StringComparison.Ordinal);
            throw new IOException($"{full}: {reason}", e);
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    public void Commit()
    {
        if (settled)
            throw new InvalidOperationException($"{destination}: the staged file was already committed or discarded");
        File.Move(temporary, destination, overwrite: true);
        settled = true;
    }

    public void Dispose()
    {
        if (settled) return;
        File.Delete(temporary);
        settled = true;
    }
}
