using ReClip.Runtime.Memory;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed unsafe class HostMemoryPoolTests
{
    [TestCase(1, 64)]
    [TestCase(64, 64)]
    [TestCase(65, 128)]
    [TestCase(513, 640)]
    [TestCase(1024, 1024)]
    [TestCase(1025, 1280)]
    [TestCase(3_000_000, 3_145_728)]
    public void SizeClassesWasteAtMostAQuarter(long request, long expected)
    {
        long size = HostMemoryPool.SizeClass(request);
        Assert.That(size, Is.EqualTo(expected));
        Assert.That(size, Is.LessThanOrEqualTo(Math.Max(64, request * 5 / 4 + 64)));
    }

    [Test]
    public void ReturnedBlocksAreReusedForTheSameSizeClass()
    {
        var pool = new HostMemoryPool(cacheLimitBytes: 1 << 20);
        byte* first = pool.Rent(1000);
        pool.Return(first, 1000);
        byte* second = pool.Rent(900);
        Assert.That((nint)second, Is.EqualTo((nint)first));
        pool.Return(second, 900);
        pool.Trim();
        Assert.That(pool.CachedBytes, Is.Zero);
    }

    [Test]
    public void CacheLimitIsRespected()
    {
        var pool = new HostMemoryPool(cacheLimitBytes: 4096);
        byte* a = pool.Rent(4096);
        byte* b = pool.Rent(4096);
        pool.Return(a, 4096);
        pool.Return(b, 4096);
        Assert.That(pool.CachedBytes, Is.EqualTo(4096));
        Assert.That(pool.LiveBytes, Is.Zero);
        Assert.That(pool.PeakLiveBytes, Is.EqualTo(8192));
        pool.Trim();
    }
}
