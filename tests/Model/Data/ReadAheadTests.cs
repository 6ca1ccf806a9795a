using ReClip.Model.Data;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// Items read ahead on the thread pool come back in order, whatever order the reads finish in; no more than the depth
/// beyond the current item is read; a read that failed throws its own error at its turn and not before; reads no one
/// takes are waited for, released, and their errors dropped.
/// </summary>
[TestFixture]
public sealed class ReadAheadTests
{
    [Test]
    public void ItemsComeBackInOrder()
    {
        // Early items take longest, so later reads finish first.
        using var reads = new ReadAhead<int>(20, i =>
        {
            Thread.Sleep(Math.Max(0, 5 - i));
            return i * i;
        }, 4);
        int[] items = [.. Enumerable.Range(0, 20).Select(_ => reads.Next())];
        Assert.That(items, Is.EqualTo(Enumerable.Range(0, 20).Select(i => i * i)));
        Assert.That(reads.Next, Throws.InvalidOperationException.With.Message.Contains("all 20 items were taken"));
    }

    [Test]
    public void NoReadGoesFurtherThanTheDepthBeyondTheCurrentItem()
    {
        int furthest = -1;
        using var reads = new ReadAhead<int>(50, i =>
        {
            InterlockedMax(ref furthest, i);
            return i;
        }, 3);
        for (int i = 0; i < 10; i++)
        {
            Assert.That(reads.Next(), Is.EqualTo(i));
            Assert.That(Volatile.Read(ref furthest), Is.LessThanOrEqualTo(i + 3), $"at item {i}");
        }
        Assert.That(() => new ReadAhead<int>(1, i => i, 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void AFailedReadThrowsItsOwnErrorAtItsTurn()
    {
        using var reads = new ReadAhead<int>(6, i => i == 3 ? throw new InvalidDataException("image3.jpg: not a readable image") : i, 4);
        for (int i = 0; i < 3; i++)
            Assert.That(reads.Next(), Is.EqualTo(i), "the items before the broken one come first");
        Assert.That(reads.Next, Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("image3.jpg: not a readable image"));
    }

    [Test]
    public void ReadsNoOneTakesAreWaitedForAndTheirErrorsDropped()
    {
        int finished = 0;
        var reads = new ReadAhead<int>(8, i =>
        {
            Thread.Sleep(2);
            Interlocked.Increment(ref finished);
            return i == 2 ? throw new IOException("gone") : i;
        }, 4);
        Assert.That(reads.Next(), Is.EqualTo(0));
        Assert.That(reads.Dispose, Throws.Nothing);
        Assert.That(finished, Is.EqualTo(5), "items 0..4 were started, and all finished before Dispose returned");
    }

    [Test]
    public void ReadsNoOneTakesAreReleased()
    {
        var released = new List<int>();
        var reads = new ReadAhead<int>(8, i => i == 3 ? throw new IOException("gone") : i, 4, released.Add);
        Assert.That(reads.Next(), Is.EqualTo(0));
        Assert.That(reads.Next(), Is.EqualTo(1));
        reads.Dispose();
        Assert.That(released, Is.EqualTo(new[] { 2, 4, 5 }), "the items read ahead and not taken, in order; the failed one has nothing to release");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
