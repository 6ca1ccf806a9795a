using System.Buffers.Binary;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ReClip.Runtime.Collectives;

/// <summary>
/// Data-parallel ranks as processes on CPUs, over the TCP connections of the rendezvous: a star through rank 0.
/// An all-reduce sends every rank's values to rank 0, which adds them in rank order (((r0 + r1) + r2) + …, as
/// <see cref="InProcessGroup"/> does) and sends the sum back, so every rank gets the same bits whatever the timing.
/// Each message is a byte count (checked against the receiver's) and the values in this machine's byte order
/// (little-endian on every platform reclip runs on). A rank that dies closes its connection, and the others stop
/// with an error instead of waiting for ever.
/// </summary>
public sealed class TcpCollective : ICollective
{
    private readonly TcpClient?[] links;

    private TcpCollective(TcpClient?[] links, int rank)
    {
        this.links = links;
        Rank = rank;
    }

    public int Rank { get; }

    public int WorldSize => links.Length;

    /// <summary>Meets the other ranks at the rendezvous and keeps its connections.</summary>
    public static TcpCollective Create(TcpRendezvous rendezvous)
    {
        ArgumentNullException.ThrowIfNull(rendezvous);
        (_, TcpClient?[] links) = rendezvous.Meet(() => []);
        return new TcpCollective(links, rendezvous.Rank);
    }

    public void AllReduceSum(Span<float> values) => AllReduce(values);

    public void AllReduceSum(Span<double> values) => AllReduce(values);

    public void Broadcast(Span<float> values, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        Span<byte> bytes = MemoryMarshal.AsBytes(values);
        if (Rank == 0)
        {
            if (root != 0)
                Receive(root, bytes);
            for (int r = 1; r < WorldSize; r++)
                if (r != root)
                    Send(r, bytes);
        }
        else if (Rank == root)
            Send(0, bytes);
        else
            Receive(0, bytes);
    }

    /// <summary>An all-reduce of one value: it completes on no rank before every rank has joined it.</summary>
    public void Barrier() => AllReduceSum(stackalloc float[1]);

    public void Dispose()
    {
        foreach (TcpClient? link in links) link?.Dispose();
    }

    private void AllReduce<T>(Span<T> values) where T : unmanaged, INumber<T>
    {
        if (Rank != 0)
        {
            Send(0, MemoryMarshal.AsBytes(values));
            Receive(0, MemoryMarshal.AsBytes(values));
            return;
        }
        var parts = new T[WorldSize][];
        parts[0] = values.ToArray();
        for (int r = 1; r < WorldSize; r++)
        {
            parts[r] = new T[values.Length];
            Receive(r, MemoryMarshal.AsBytes(parts[r].AsSpan()));
        }
        InProcessGroup.RankOrderSum(parts, values);
        for (int r = 1; r < WorldSize; r++)
            Send(r, MemoryMarshal.AsBytes(values));
    }

    private void Send(int peer, ReadOnlySpan<byte> bytes)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(header, bytes.Length);
        try
        {
            NetworkStream stream = Link(peer).GetStream();
            stream.Write(header);
            stream.Write(bytes);
        }
        catch (IOException e)
        {
            throw new IOException($"rank {Rank}: the connection to rank {peer} broke (did rank {peer} stop? see its error)", e);
        }
    }

    /// <summary>Reads a message of exactly <paramref name="bytes"/>' length from <paramref name="peer"/> into it.</summary>
    private void Receive(int peer, Span<byte> bytes)
    {
        Span<byte> header = stackalloc byte[8];
        try
        {
            NetworkStream stream = Link(peer).GetStream();
            stream.ReadExactly(header);
            long length = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (length != bytes.Length)
                throw new InvalidOperationException(
                    $"rank {Rank}: rank {peer} sent {length} bytes where {bytes.Length} were expected (the ranks do not run the same steps: same settings on every rank?)");
            stream.ReadExactly(bytes);
        }
        catch (IOException e)
        {
            throw new IOException($"rank {Rank}: the connection to rank {peer} broke (did rank {peer} stop? see its error)", e);
        }
    }

    private TcpClient Link(int peer) => links[peer] ?? throw new InvalidOperationException($"rank {Rank} has no connection to rank {peer}");
}
