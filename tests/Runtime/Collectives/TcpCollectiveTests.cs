using ReClip.Runtime.Collectives;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Collectives;

/// <summary>The TCP transport between threads on a local port, against the in-process transport.</summary>
[TestFixture]
public sealed class TcpCollectiveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="work"/> on <paramref name="ranks"/> threads, each with its own TCP collective.</summary>
    public static T[] OverTcp<T>(int ranks, Func<ICollective, T> work)
    {
        int port = LocalPort.Free();
        return InProcessGroup.Run(ranks, threads =>
        {
            using TcpCollective group = TcpCollective.Create(new TcpRendezvous("127.0.0.1", port, threads.Rank, ranks, Timeout));
            return work(group);
        });
    }

    private static float[] Values(int rank) => [1e8f * (rank % 2 == 0 ? 1 : -1), 0.1f * (rank + 1), rank, 1f / (rank + 3)];

    [TestCase(2)]
    [TestCase(3)]
    public void AllReduceGivesTheBitsOfTheInProcessTransport(int ranks)
    {
        float[][] expected = InProcessGroup.Run(ranks, group =>
        {
            float[] values = Values(group.Rank);
            group.AllReduceSum(values);
            return values;
        });
        (float[] Floats, double[] Doubles)[] results = OverTcp(ranks, group =>
        {
            float[] values = Values(group.Rank);
            double[] doubles = [group.Rank + 1e-12, 1];
            group.AllReduceSum(values);
            group.AllReduceSum(doubles);
            group.Barrier();
            return (values, doubles);
        });
        Assert.Multiple(() =>
        {
            foreach ((float[] floats, double[] doubles) in results)
            {
                Assert.That(floats, Is.EqualTo(expected[0]));
                Assert.That(doubles, Is.EqualTo(new[] { Enumerable.Range(0, ranks).Sum(r => r + 1e-12), ranks }));
            }
        });
    }

    [TestCase(0)]
    [TestCase(2)]
    public void BroadcastCopiesTheRootsValues(int root)
    {
        float[][] results = OverTcp(3, group =>
        {
            float[] values = [group.Rank, -group.Rank];
            group.Broadcast(values, root);
            return values;
        });
        Assert.That(results, Is.All.EqualTo(new float[] { root, -root }));
    }

    [Test]
    public void ARankThatStopsStopsTheOthers()
    {
        var error = Assert.Throws<IOException>(() => OverTcp(3, group =>
        {
            if (group.Rank == 2) return 0;
            group.AllReduceSum(new float[4]);
            return 1;
        }));
        Assert.That(error!.Message, Does.Contain("the connection to rank"));
    }

    [Test]
    public void BuffersOfDifferentLengthsAreRefused()
    {
        Assert.Catch(() => OverTcp(2, group =>
        {
            group.AllReduceSum(new float[group.Rank + 1]);
            return 0;
        }));
    }
}
