using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed class BFloat16Tests
{
    // Expected bit patterns follow torch.tensor(x).to(torch.bfloat16).view(torch.int16): round to nearest even.
    [TestCase(1.0f, (ushort)0x3F80)]
    [TestCase(-2.0f, (ushort)0xC000)]
    [TestCase(1.00390625f, (ushort)0x3F80)] // exactly halfway, rounds to the even neighbour below
    [TestCase(1.01171875f, (ushort)0x3F82)] // exactly halfway, rounds to the even neighbour above
    [TestCase(float.PositiveInfinity, (ushort)0x7F80)]
    [TestCase(3.3895314e38f, (ushort)0x7F7F)]
    public void RoundsToNearestEven(float value, ushort bits) =>
        Assert.That(((BFloat16)value).Bits, Is.EqualTo(bits));

    [Test]
    public void NaNStaysNaN() => Assert.That(float.IsNaN((float)(BFloat16)float.NaN), Is.True);

    [Test]
    public void WideningIsExact() => Assert.That((float)BFloat16.FromBits(0x4049), Is.EqualTo(3.140625f));
}
