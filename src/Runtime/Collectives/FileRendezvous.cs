using System.Globalization;
using ReClip.Runtime.IO;

namespace ReClip.Runtime.Collectives;

/// <summary>
/// A rendezvous through a file on storage every rank sees: rank 0 writes "reclip-rendezvous WORLD BASE64" atomically
/// (a reader never sees half of it), the others poll until it appears. Rank 0 refuses a file that already exists, so
/// a file left by an earlier run is never taken for this one's, and removes it once every rank has joined.
/// </summary>
public sealed class FileRendezvous(string path, int rank, int worldSize, TimeSpan timeout) : Rendezvous(rank, worldSize, timeout)
{
    private const string Magic = "reclip-rendezvous";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public override byte[] Share(Func<byte[]> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (Rank == 0)
        {
            if (File.Exists(Path))
                throw new ArgumentException($"--init {Path}: the file already exists (left by an earlier run?); remove it or name a new file");
            byte[] payload = create();
            AtomicFile.WriteAllText(Path, string.Create(CultureInfo.InvariantCulture, $"{Magic} {WorldSize} {Convert.ToBase64String(payload)}\n"));
            return payload;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(Path))
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"--init {Path}: rank 0 did not write it within {Timeout.TotalSeconds:0} s");
            Thread.Sleep(PollInterval);
        }
        return Parse(File.ReadAllText(Path));
    }

    /// <summary>Rank 0 removes the file; the others have read it by now.</summary>
    public override void Release()
    {
        if (Rank == 0)
            File.Delete(Path);
    }

    private byte[] Parse(string text)
    {
        string[] fields = text.TrimEnd('\n').Split(' ');
        if (fields.Length != 3 || fields[0] != Magic || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int world))
            throw new InvalidDataException($"--init {Path}: not a rendezvous file of reclip");
        if (world != WorldSize)
            throw new ArgumentException($"--init {Path}: rank 0 started a world of {world} ranks, this rank was given --world-size {WorldSize}");
        try
        {
            return Convert.FromBase64String(fields[2]);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"--init {Path}: the id in the rendezvous file is not base64");
        }
    }
}
