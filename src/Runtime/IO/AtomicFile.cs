namespace ReClip.Runtime.IO;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete one: the bytes go
/// to a temporary file in the same folder, are flushed to disk, and the temporary file is renamed over
/// the target (<see cref="StagedFile"/>). A crash or kill at any point leaves no half-written target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        using StagedFile staged = StagedFile.Write(path, write);
        staged.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
