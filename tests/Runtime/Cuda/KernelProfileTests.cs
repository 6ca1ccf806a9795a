using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>What a kernel profile does without a GPU; its timing of launches is checked in <see cref="CudaLaunchTests"/>.</summary>
[TestFixture]
public sealed class KernelProfileTests
{
    [Test]
    public void OnlyOneProfileIsOpenAtATime()
    {
        using (KernelProfile first = KernelProfile.Start(0))
            Assert.That(() => KernelProfile.Start(0), Throws.InvalidOperationException.With.Message.Contains("open already"));
        using KernelProfile again = KernelProfile.Start(0);
        Assert.That(again, Is.Not.Null, "a closed profile lets the next one open");
    }
}
