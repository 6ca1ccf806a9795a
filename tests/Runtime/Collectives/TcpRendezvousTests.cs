using ReClip.Runtime.Collectives;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Collectives;

/// <summary>The TCP rendezvous between threads on local ports.</summary>
[TestFixture]
public sealed class TcpRendezvousTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void EveryRankReceivesRankZerosBytes(int ranks)
    {
        string init = $"tcp://127.0.0.1:{LocalPort.Free()}";
        byte[] id = [.. Enumerable.Range(0, 128).Select(i => (byte)(255 - i))];
        byte[][] received = InProcessGroup.Run(ranks, group =>
        {
            // Peers start before rank 0 listens: they retry until it does.
            if (group.Rank == 0) Thread.Sleep(300);
            Rendezvous rendezvous = Rendezvous.Parse(init, group.Rank, ranks, Timeout);
            byte[] bytes = rendezvous.Share(() => id);
            rendezvous.Release();
            return bytes;
        });
        Assert.That(received, Is.All.EqualTo(id));
    }

    [Test]
    public void RankZeroTimesOutWhenARankIsMissing()
    {
        var rendezvous = new TcpRendezvous("127.0.0.1", LocalPort.Free(), 0, 2, TimeSpan.FromMilliseconds(300));
        var error = Assert.Throws<TimeoutException>(() => rendezvous.Share(() => [1]));
        Assert.That(error!.Message, Does.Contain("not every rank of 2 joined"));
    }

    [Test]
    public void APeerTimesOutWhenRankZeroNeverListens()
    {
        var rendezvous = new TcpRendezvous("127.0.0.1", LocalPort.Free(), 1, 2, TimeSpan.FromMilliseconds(500));
        var error = Assert.Throws<TimeoutException>(() => rendezvous.Share(() => [1]));
        Assert.That(error!.Message, Does.Contain("rank 0 did not answer"));
    }

    [Test]
    public void APeerWithAnotherWorldSizeIsRefusedByRankZero()
    {
        int port = LocalPort.Free();
        Exception?[] errors = new Exception?[2];
        var root = new Thread(() => errors[0] = Catch(() => new TcpRendezvous("127.0.0.1", port, 0, 2, Timeout).Share(() => [1])));
        var peer = new Thread(() => errors[1] = Catch(() => new TcpRendezvous("127.0.0.1", port, 1, 3, Timeout).Share(() => [1])));
        root.Start();
        peer.Start();
        root.Join();
        peer.Join();
        Assert.That(errors[0], Is.TypeOf<InvalidDataException>());
        Assert.That(errors[0]!.Message, Does.Contain("--world-size 3").And.Contain("world of 2"));
        Assert.That(errors[1], Is.InstanceOf<IOException>());
        Assert.That(errors[1]!.Message, Does.Contain("rank 0 closed the connection"));
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
