using ReClip.Runtime.Collectives;

namespace ReClip.Tests.Runtime.Collectives;

[TestFixture]
public sealed class InProcessGroupTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void AllReduceGivesEveryRankTheSumInRankOrder(int ranks)
    {
        // Values whose float sum depends on the order: 1e8 + 1 − 1e8 is 0 in float, not 1.
        float[][] inputs = [[1e8f, 0.5f, 3], [1, 0.25f, -3], [-1e8f, 0.125f, 7]];
        float[][] results = InProcessGroup.Run(ranks, group =>
        {
            float[] values = [.. inputs[group.Rank]];
            group.AllReduceSum(values);
            return values;
        });
        float[] expected = new float[3];
        for (int i = 0; i < 3; i++)
        {
            float total = inputs[0][i];
            for (int r = 1; r < ranks; r++) total += inputs[r][i];
            expected[i] = total;
        }
        foreach (float[] result in results)
            Assert.That(result, Is.EqualTo(expected));
    }

    [Test]
    public void DoubleAllReduceKeepsDoublePrecision()
    {
        double[][] results = InProcessGroup.Run(2, group =>
        {
            double[] values = [group.Rank == 0 ? 1.0 : 1e-12];
            group.AllReduceSum(values);
            return values;
        });
        Assert.That(results.Select(r => r[0]), Is.All.EqualTo(1.0 + 1e-12));
    }

    [Test]
    public void BroadcastCopiesTheRootsValues()
    {
        float[][] results = InProcessGroup.Run(3, group =>
        {
            float[] values = [group.Rank, group.Rank * 10];
            group.Broadcast(values, root: 1);
            group.Barrier();
            return values;
        });
        Assert.That(results, Is.All.EqualTo(new float[] { 1, 10 }));
    }

    [Test]
    public void AFailingRankReleasesTheOthersAndItsErrorIsRethrown()
    {
        var error = Assert.Throws<InvalidOperationException>(() => InProcessGroup.Run(3, group =>
        {
            if (group.Rank == 2) throw new InvalidOperationException("rank 2 failed");
            group.Barrier();
            return 0;
        }));
        Assert.That(error!.Message, Is.EqualTo("rank 2 failed"));
    }

    [Test]
    public void BuffersOfDifferentLengthsAreRefusedOnEveryRank()
    {
        var error = Assert.Throws<ArgumentException>(() => InProcessGroup.Run(2, group =>
        {
            float[] values = new float[group.Rank + 1];
            group.AllReduceSum(values);
            return 0;
        }));
        Assert.That(error!.Message, Does.Contain("values"));
    }
}
