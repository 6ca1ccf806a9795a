using ReClip.Model.Eval;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class ConnectedComponentsTests
{
    [Test]
    public void DiagonalNeighboursAreSeparateComponents()
    {
        int[] labels = [0, 1, 0, 1, 0, 1, 0, 1, 255];
        int[] components = new int[9];
        int count = ConnectedComponents.Label(labels, 3, 3, components);
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(8));
            Assert.That(components, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 6, 7, -1 }));
        });
    }

    [Test]
    public void FloodFillFollowsTurns()
    {
        // A U of class 1 around a column of class 0, and a second class-0 region cut off by an ignored pixel.
        int[] labels =
        [
            1, 0, 1, 0,
            1, 0, 1, 255,
            1, 1, 1, 0,
        ];
        int[] components = new int[labels.Length];
        int count = ConnectedComponents.Label(labels, 4, 3, components);
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(4));
            Assert.That(components, Is.EqualTo(new[] { 0, 1, 0, 2, 0, 1, 0, -1, 0, 0, 0, 3 }));
        });
    }

    [Test]
    public void OneLargeRegionDoesNotOverflow()
    {
        const int side = 1000;
        int[] labels = new int[side * side], components = new int[side * side];
        Assert.Multiple(() =>
        {
            Assert.That(ConnectedComponents.Label(labels, side, side, components), Is.EqualTo(1));
            Assert.That(components.All(c => c == 0), Is.True);
        });
    }

    [Test]
    public void WrongSizesAreErrors()
    {
        Assert.That(() => ConnectedComponents.Label(new int[6], 4, 2, new int[6]), Throws.ArgumentException.With.Message.Contain("4×2"));
    }
}
