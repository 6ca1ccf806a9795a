using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>The check of a launch's arguments against its kernel's parameter sizes, without a GPU (the driver's side is in CudaLaunchTests).</summary>
[TestFixture]
public sealed class KernelParametersTests
{
    [Test]
    public void ArgumentsKeepTheSizeEachDeclares()
    {
        KernelArguments arguments = new KernelArguments().Pointer(0x1000).Int(-3).Float(0.5f).Long(1L << 40);
        Assert.That(arguments.Sizes(), Is.EqualTo(new[] { 8, 4, 4, 8 }));
        Assert.That(arguments.Fit([8, 4, 4, 8]), Is.True);
        Assert.That(arguments.Fit([8, 4, 8, 8]), Is.False, "a float where a long long is declared");
        Assert.That(arguments.Fit([8, 4, 4]), Is.False, "one argument too many");
        Assert.That(arguments.Fit([8, 4, 4, 8, 4]), Is.False, "one argument too few");
        Assert.That(new KernelArguments().Fit([]), Is.True, "a kernel without parameters");
    }

    [Test]
    public void AMismatchNamesTheKernelAndWhereItsListsPart()
    {
        Assert.That(KernelParameters.Mismatch("softmax_forward", [8, 8, 4, 4, 4, 4], [8, 8, 4, 4, 4, 4]), Is.Null);
        Assert.That(KernelParameters.Mismatch("softmax_forward", [8, 8, 4, 4, 4, 4], [8, 8, 4, 4, 4]),
            Is.EqualTo("kernel softmax_forward takes 6 parameters (8 8 4 4 4 4 bytes), its launch gave 5 (8 8 4 4 4)"));
        Assert.That(KernelParameters.Mismatch("add_bias", [8, 8, 8, 4, 4], [8, 8, 4, 4, 4]),
            Is.EqualTo("kernel add_bias's parameter 2 takes 8 bytes, its launch gave 4 (8 8 8 4 4 against 8 8 4 4 4)"));
        Assert.That(KernelParameters.Mismatch("empty", [], [4]), Is.EqualTo("kernel empty takes 0 parameters, its launch gave 1 (4)"));
    }
}
