using ReClip.Model.Sharding;

namespace ReClip.Tests.Model.Sharding;

[TestFixture]
public sealed class DatasetShardTests
{
    [TestCase(1, 1)]
    [TestCase(7, 1)]
    [TestCase(7, 2)]
    [TestCase(7, 3)]
    [TestCase(10, 4)]
    [TestCase(5, 5)]
    public void TheBlocksTileTheSplitInOrderWithSizesOneApart(int samples, int shards)
    {
        int next = 0;
        var sizes = new List<int>();
        for (int i = 0; i < shards; i++)
        {
            (int first, int length) = new DatasetShard(i, shards).Block(samples);
            Assert.That(first, Is.EqualTo(next), $"shard {i}/{shards} starts where {i - 1} ended");
            next = first + length;
            sizes.Add(length);
        }
        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo(samples));
            Assert.That(sizes.Max() - sizes.Min(), Is.LessThanOrEqualTo(1));
            Assert.That(sizes.Min(), Is.Positive);
        });
    }

    [Test]
    public void OfTakesTheBlockOfTheList()
    {
        string[] ids = ["a", "b", "c", "d", "e"];
        Assert.Multiple(() =>
        {
            Assert.That(new DatasetShard(0, 2).Of(ids), Is.EqualTo(new[] { "a", "b" }));
            Assert.That(new DatasetShard(1, 2).Of(ids), Is.EqualTo(new[] { "c", "d", "e" }));
        });
    }

    [TestCase("0/1", 0, 1)]
    [TestCase("2/3", 2, 3)]
    [TestCase("15/16", 15, 16)]
    public void ParsesIndexOverCount(string text, int index, int count)
    {
        DatasetShard? shard = DatasetShard.TryParse(text, out string? error);
        Assert.Multiple(() =>
        {
            Assert.That(shard, Is.EqualTo(new DatasetShard(index, count)));
            Assert.That(error, Is.Null);
            Assert.That(shard.ToString(), Is.EqualTo(text));
        });
    }

    [TestCase("3/3", "0 ≤ i < n")]
    [TestCase("0/0", "0 ≤ i < n")]
    [TestCase("-1/2", "is not i/n")]
    [TestCase("1", "is not i/n")]
    [TestCase("1/2/3", "is not i/n")]
    [TestCase(" 1/2", "is not i/n")]
    [TestCase("a/b", "is not i/n")]
    public void RefusesWhatIsNotAShardIndex(string text, string reason)
    {
        DatasetShard? shard = DatasetShard.TryParse(text, out string? error);
        Assert.Multiple(() =>
        {
            Assert.That(shard, Is.Null);
            Assert.That(error, Does.Contain(reason).And.Contain(text));
        });
    }

    [Test]
    public void MoreShardsThanImagesIsRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new DatasetShard(0, 4).Block(3), Throws.ArgumentException.With.Message.Contain("only 3 images"));
            Assert.That(() => new DatasetShard(2, 2), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }
}
