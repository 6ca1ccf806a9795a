using ReClip.Runtime.Collectives;

namespace ReClip.Tests.Runtime.Collectives;

[TestFixture]
public sealed class FileRendezvousTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-rendezvous-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [TestCase(2)]
    [TestCase(3)]
    public void EveryRankReceivesRankZerosBytesAndTheFileIsRemovedAfterwards(int ranks)
    {
        string path = Path.Combine(folder, "init");
        byte[] id = [.. Enumerable.Range(0, 128).Select(i => (byte)(i * 7))];
        int created = 0;
        byte[][] received = ReClip.Runtime.Collectives.InProcessGroup.Run(ranks, group =>
        {
            // Other ranks start first: they wait for the file.
            if (group.Rank == 0) Thread.Sleep(200);
            var rendezvous = Rendezvous.Parse(path, group.Rank, ranks, Timeout);
            byte[] bytes = rendezvous.Share(() =>
            {
                Interlocked.Increment(ref created);
                return id;
            });
            group.Barrier();
            rendezvous.Release();
            return bytes;
        });
        Assert.That(created, Is.EqualTo(1), "only rank 0 creates the id");
        Assert.That(received, Is.All.EqualTo(id));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void AnExistingFileIsRefusedByRankZero()
    {
        string path = Path.Combine(folder, "stale");
        File.WriteAllText(path, "left over");
        var error = Assert.Throws<ArgumentException>(() => new FileRendezvous(path, 0, 2, Timeout).Share(() => [1]));
        Assert.That(error!.Message, Does.Contain(path).And.Contain("already exists"));
    }

    [Test]
    public void ARankWaitsOnlyUntilTheTimeout()
    {
        string path = Path.Combine(folder, "never");
        var error = Assert.Throws<TimeoutException>(() => new FileRendezvous(path, 1, 2, TimeSpan.FromMilliseconds(200)).Share(() => [1]));
        Assert.That(error!.Message, Does.Contain(path).And.Contain("rank 0 did not write it"));
    }

    [Test]
    public void AnotherWorldSizeIsRefused()
    {
        string path = Path.Combine(folder, "world");
        new FileRendezvous(path, 0, 3, Timeout).Share(() => [9]);
        var error = Assert.Throws<ArgumentException>(() => new FileRendezvous(path, 1, 2, Timeout).Share(() => [1]));
        Assert.That(error!.Message, Does.Contain("world of 3 ranks").And.Contain("--world-size 2"));
    }

    [TestCase("tcp://host", "tcp://HOST:PORT")]
    [TestCase("tcp://host:0", "1..65535")]
    [TestCase("tcp://host:http", "tcp://HOST:PORT")]
    public void MalformedTcpAddressesAreRefused(string init, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Rendezvous.Parse(init, 0, 2, Timeout));
        Assert.That(error!.Message, Does.Contain(init).And.Contain(expected));
    }

    [Test]
    public void FileUrlsAndPlainPathsNameTheSameFile()
    {
        string path = Path.Combine(folder, "x");
        Assert.That(((FileRendezvous)Rendezvous.Parse("file://" + path, 1, 2, Timeout)).Path, Is.EqualTo(path));
        Assert.That(((FileRendezvous)Rendezvous.Parse(path, 1, 2, Timeout)).Path, Is.EqualTo(path));
        Assert.That(Rendezvous.Parse("tcp://127.0.0.1:29500", 1, 2, Timeout), Is.TypeOf<TcpRendezvous>());
    }
}
