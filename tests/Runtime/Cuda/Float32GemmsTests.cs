using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Cuda;

[TestFixture]
public sealed class Float32GemmsTests
{
    [Test]
    public void AScopeSetsTheThreadsMathAndRestoresWhatWasBefore()
    {
        Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.Float32), "float32 unless asked");
        using (Float32Gemms.TensorFloat32())
        {
            Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.TensorFloat32));
            using (Float32Gemms.TensorFloat32(on: false))
                Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.Float32), "a nested scope may turn it off");
            Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.TensorFloat32), "and the outer one's setting comes back");
        }
        Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.Float32));
    }

    [Test]
    public void AnotherThreadKeepsFloat32()
    {
        using (Float32Gemms.TensorFloat32())
        {
            GemmPrecision elsewhere = Task.Factory.StartNew(() => Float32Gemms.Precision, TaskCreationOptions.LongRunning).Result;
            Assert.That(elsewhere, Is.EqualTo(GemmPrecision.Float32), "what this thread queues is TF32, not what others do");
        }
    }
}
