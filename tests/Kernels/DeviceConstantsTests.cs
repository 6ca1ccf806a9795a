using ReClip.Kernels.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Kernels;

/// <summary>
/// The kept read-only lists, exercised on the CPU (the cache does not care where the copies live): one copy per content,
/// the callers' references independent of the kept one, the least recently used dropped past the bound, large lists
/// not kept. Each test uses lists of its own (a leading marker), as the cache is shared by the process.
/// </summary>
[TestFixture]
public sealed class DeviceConstantsTests
{
    [Test]
    public void TheSameContentIsOneCopyAndOtherContentAnother()
    {
        using Tensor a = DeviceConstants.Get<int>([71, 1, 2, 3], Device.Cpu), b = DeviceConstants.Get<int>([71, 1, 2, 3], Device.Cpu);
        using Tensor c = DeviceConstants.Get<int>([71, 1, 2, 4], Device.Cpu), d = DeviceConstants.Get<float>([71, 1, 2, 3], Device.Cpu);
        Assert.That(b.Storage, Is.SameAs(a.Storage));
        Assert.That(c.Storage, Is.Not.SameAs(a.Storage));
        Assert.That(d.Storage, Is.Not.SameAs(a.Storage), "the element type is part of the content");
        Assert.That(a.ToFloatArray(), Is.EqualTo(new[] { 71f, 1, 2, 3 }));
    }

    [Test]
    public void DisposingAReferenceKeepsTheCopy()
    {
        Storage first;
        using (Tensor a = DeviceConstants.Get<int>([72, 5], Device.Cpu))
            first = a.Storage;
        using Tensor again = DeviceConstants.Get<int>([72, 5], Device.Cpu);
        Assert.That(again.Storage, Is.SameAs(first));
        Assert.That(first.IsReleased, Is.False);
        Assert.That(again.ToFloatArray(), Is.EqualTo(new[] { 72f, 5 }));
    }

    [Test]
    public void TheLeastRecentlyUsedListGoesPastTheBound()
    {
        Storage oldest, recent;
        using (Tensor a = DeviceConstants.Get<int>([73, -1], Device.Cpu))
            oldest = a.Storage;
        using (Tensor b = DeviceConstants.Get<int>([73, -2], Device.Cpu))
            recent = b.Storage;
        for (int i = 0; i < DeviceConstants.MaxEntries; i++)
        {
            using (DeviceConstants.Get<int>([73, -2], Device.Cpu)) { }
            using (DeviceConstants.Get<int>([73, i], Device.Cpu)) { }
        }
        Assert.That(DeviceConstants.Count, Is.LessThanOrEqualTo(DeviceConstants.MaxEntries));
        Assert.That(oldest.IsReleased, Is.True, "dropped and no reference left");
        using Tensor kept = DeviceConstants.Get<int>([73, -2], Device.Cpu);
        Assert.That(kept.Storage, Is.SameAs(recent), "used all along, so kept");
    }

    [Test]
    public void LargeListsAreNotKept()
    {
        int[] large = new int[DeviceConstants.MaxBytes / sizeof(int) + 1];
        large[0] = 74;
        using Tensor a = DeviceConstants.Get<int>(large, Device.Cpu), b = DeviceConstants.Get<int>(large, Device.Cpu);
        Assert.That(b.Storage, Is.Not.SameAs(a.Storage));
    }
}
