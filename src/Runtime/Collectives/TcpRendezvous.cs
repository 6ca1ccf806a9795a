using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ReClip.Runtime.Collectives;

/// <summary>
/// A rendezvous over TCP: rank 0 listens on PORT (every interface), each other rank connects to HOST:PORT (retrying
/// until rank 0 listens or the timeout passes) and sends "RCLP", its world size and rank; once every rank 1..N−1 has
/// joined exactly once, rank 0 sends each of them the payload (length, bytes). <see cref="Share"/> then closes the
/// connections; <see cref="TcpCollective"/> keeps them as its links.
/// </summary>
public sealed class TcpRendezvous(string host, int port, int rank, int worldSize, TimeSpan timeout) : Rendezvous(rank, worldSize, timeout)
{
    private const int Magic = 0x50_4C_43_52; // "RCLP" little-endian
    private const int MaxPayload = 1 << 20;
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    public string Host { get; } = host;

    public int Port { get; } = port;

    private string Address => $"tcp://{Host}:{Port}";

    public override byte[] Share(Func<byte[]> create)
    {
        (byte[] payload, TcpClient?[] links) = Meet(create);
        foreach (TcpClient? link in links) link?.Dispose();
        return payload;
    }

    /// <summary>
    /// <see cref="Share"/>, keeping the connections open: on rank 0 one per other rank (at its rank's index), on the
    /// others one to rank 0 (at index 0). The caller owns them.
    /// </summary>
    internal (byte[] Payload, TcpClient?[] Links) Meet(Func<byte[]> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            if (Rank == 0)
                return Serve(create, deadline.Token);
            var links = new TcpClient?[WorldSize];
            (byte[] payload, links[0]) = Join(deadline.Token);
            return (payload, links);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException(Rank == 0
                ? $"--init {Address}: not every rank of {WorldSize} joined within {Timeout.TotalSeconds:0} s"
                : $"--init {Address}: rank 0 did not answer within {Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The connections close when <see cref="Share"/> returns: nothing is left to free.</summary>
    public override void Release()
    {
    }

    private (byte[] Payload, TcpClient?[] Peers) Serve(Func<byte[]> create, CancellationToken cancel)
    {
        var listener = new TcpListener(IPAddress.Any, Port);
        try
        {
            listener.Start(WorldSize);
        }
        catch (SocketException e)
        {
            throw new IOException($"--init {Address}: rank 0 cannot listen on port {Port} ({e.SocketErrorCode})", e);
        }
        var peers = new TcpClient?[WorldSize];
        bool served = false;
        try
        {
            for (int joined = 1; joined < WorldSize; joined++)
            {
                TcpClient client = listener.AcceptTcpClientAsync(cancel).AsTask().GetAwaiter().GetResult();
                client.NoDelay = true;
                int peer = ReadHello(client, cancel);
                if (peers[peer] is not null)
                {
                    client.Dispose();
                    throw new InvalidOperationException($"--init {Address}: two processes joined as rank {peer}");
                }
                peers[peer] = client;
            }
            byte[] payload = create();
            if (payload.Length > MaxPayload)
                throw new ArgumentException($"rendezvous payload of {payload.Length} bytes exceeds {MaxPayload}");
            var header = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
            foreach (TcpClient client in peers.Skip(1).OfType<TcpClient>())
            {
                NetworkStream stream = client.GetStream();
                stream.Write(header);
                stream.Write(payload);
            }
            served = true;
            return (payload, peers);
        }
        finally
        {
            if (!served)
                foreach (TcpClient? client in peers) client?.Dispose();
            listener.Stop();
        }
    }

    /// <summary>Reads a peer's hello and checks it: the magic, the same world size, a rank in 1..N−1.</summary>
    private int ReadHello(TcpClient client, CancellationToken cancel)
    {
        var hello = new byte[12];
        try
        {
            client.GetStream().ReadExactlyAsync(hello, cancel).AsTask().GetAwaiter().GetResult();
        }
        catch (EndOfStreamException)
        {
            client.Dispose();
            throw new InvalidDataException($"--init {Address}: a connection closed before saying which rank it is");
        }
        int magic = BinaryPrimitives.ReadInt32LittleEndian(hello), world = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(4)),
            peer = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(8));
        string? problem = magic != Magic ? "something that is not a reclip rank connected"
            : world != WorldSize ? $"a rank started with --world-size {world} joined a world of {WorldSize}"
            : peer < 1 || peer >= WorldSize ? $"a process joined as rank {peer}, outside 1..{WorldSize - 1}"
            : null;
        if (problem is not null)
        {
            client.Dispose();
            throw new InvalidDataException($"--init {Address}: {problem}");
        }
        return peer;
    }

    private (byte[] Payload, TcpClient Link) Join(CancellationToken cancel)
    {
        TcpClient client = Connect(cancel);
        NetworkStream stream = client.GetStream();
        var hello = new byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(hello, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(4), WorldSize);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(8), Rank);
        stream.Write(hello);
        try
        {
            var header = new byte[4];
            stream.ReadExactlyAsync(header, cancel).AsTask().GetAwaiter().GetResult();
            int length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length is < 0 or > MaxPayload)
                throw new InvalidDataException($"--init {Address}: rank 0 announced {length} bytes");
            var payload = new byte[length];
            stream.ReadExactlyAsync(payload, cancel).AsTask().GetAwaiter().GetResult();
            return (payload, client);
        }
        catch (IOException e)
        {
            client.Dispose();
            throw new IOException($"--init {Address}: rank 0 closed the connection before sending the id (see rank 0's error)", e);
        }
    }

    /// <summary>Connects to rank 0, retrying while it is not listening yet.</summary>
    private TcpClient Connect(CancellationToken cancel)
    {
        while (true)
        {
            var client = new TcpClient();
            try
            {
                client.ConnectAsync(Host, Port, cancel).AsTask().GetAwaiter().GetResult();
                client.NoDelay = true;
                return client;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable
                or SocketError.NetworkUnreachable or SocketError.TryAgain)
            {
                client.Dispose();
                Task.Delay(RetryInterval, cancel).GetAwaiter().GetResult();
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }
}
