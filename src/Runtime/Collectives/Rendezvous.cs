namespace ReClip.Runtime.Collectives;

/// <summary>
/// How the ranks of a run meet before they can talk: rank 0 creates a few bytes (NCCL's unique id) and every other
/// rank receives them. <c>--init</c> names the meeting point: tcp://HOST:PORT (rank 0 listens on PORT) or a file
/// path on a folder every rank sees (rank 0 writes it, the others wait for it).
/// </summary>
public abstract class Rendezvous
{
    /// <summary>How long a rank waits for the others by default (processes on several machines start minutes apart).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    protected Rendezvous(int rank, int worldSize, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(worldSize);
        if (rank < 0 || rank >= worldSize)
            throw new ArgumentException($"rank {rank} is outside 0..{worldSize - 1} for world size {worldSize}");
        if (timeout <= TimeSpan.Zero)
            throw new ArgumentException($"rendezvous timeout must be positive, got {timeout}");
        Rank = rank;
        WorldSize = worldSize;
        Timeout = timeout;
    }

    public int Rank { get; }

    public int WorldSize { get; }

    public TimeSpan Timeout { get; }

    /// <summary>A tcp://HOST:PORT address or a file path (file:// accepted), for this rank.</summary>
    public static Rendezvous Parse(string init, int rank, int worldSize, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(init);
        const string tcp = "tcp://", file = "file://";
        if (init.StartsWith(tcp, StringComparison.OrdinalIgnoreCase))
        {
            string address = init[tcp.Length..];
            int colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port)
                || port is <= 0 or > 65535)
                throw new ArgumentException($"--init {init}: expected tcp://HOST:PORT with a port in 1..65535");
            return new TcpRendezvous(address[..colon].Trim('[', ']'), port, rank, worldSize, timeout);
        }
        return new FileRendezvous(init.StartsWith(file, StringComparison.OrdinalIgnoreCase) ? init[file.Length..] : init, rank, worldSize, timeout);
    }

    /// <summary>On rank 0: <paramref name="create"/>'s bytes, handed to every other rank; elsewhere: the bytes rank 0 handed out.</summary>
    public abstract byte[] Share(Func<byte[]> create);

    /// <summary>Called once every rank holds the bytes (after a collective call all of them took part in): frees the meeting point.</summary>
    public abstract void Release();
}
