using ReClip.Runtime.Collectives;
using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Collectives;

[TestFixture]
public sealed class NcclCollectiveTests
{
    /// <summary>Without libnccl or a driver, joining fails before the rendezvous, with one line naming what is missing.</summary>
    [Test]
    public void MissingNcclOrDriverIsOneClearLine()
    {
        if (NativeLibraries.Nccl.IsLoaded && CudaDriver.IsAvailable)
            Assert.Ignore("NCCL and a CUDA driver are present on this machine");
        string never = Path.Combine(Path.GetTempPath(), $"reclip-nccl-{Guid.NewGuid():N}");
        var error = Assert.Throws<CudaUnavailableException>(() => NcclCollective.Create(new FileRendezvous(never, 1, 2, TimeSpan.FromSeconds(30))));
        Assert.That(error!.Message, Does.StartWith("data-parallel training needs "));
        Assert.That(error.Message, Does.Not.Contain('\n'));
        Assert.That(error.Message, NativeLibraries.Nccl.IsLoaded ? Does.Contain("CUDA GPU") : Does.Contain("libnccl.so.2").And.Contain("NCCL"));
        Assert.That(File.Exists(never), Is.False);
    }
}
