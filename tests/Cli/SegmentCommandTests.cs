using ReClip.Model.Data;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip segment` on the tiny CLIP: outputs, class-list errors, checkpoint errors.</summary>
[TestFixture]
public sealed class SegmentCommandTests
{
    private static readonly string[] Names = ["sky", "horse", "grass"];
    private string folder = "";
    private string image = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-segment-").FullName;
        image = Path.Combine(folder, "image.png");
        var picture = new RgbImage(40, 30);
        for (int i = 0; i < picture.Pixels.Length; i++) picture.Pixels[i] = (byte)(i * 7 % 251);
        PngFiles.WriteRgb(image, picture);
        CachedQueryBank.Store(folder, Names);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private ReclipProcess.Result Segment(params string[] arguments) => SegmentPicture(image, arguments);

    private ReclipProcess.Result SegmentPicture(string picture, params string[] arguments) =>
        ReclipProcess.Run(CachedQueryBank.Environment(folder),
            ["segment", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--image", picture, "--short-side", "24", .. arguments]);

    [Test]
    public void WritesMaskAndOverlayAtTheImageSize()
    {
        string mask = Path.Combine(folder, "mask.png"), overlay = Path.Combine(folder, "overlay.png");
        ReclipProcess.Result result = Segment("--classes", " sky, horse ,grass", "--out", mask, "--overlay", overlay, "--pd", "0.5");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        RgbImage maskImage = PngFiles.ReadRgb(mask), overlayImage = PngFiles.ReadRgb(overlay);
        var palette = Enumerable.Range(0, Names.Length).Select(MaskPicture.Colour).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That((maskImage.Width, maskImage.Height, overlayImage.Width, overlayImage.Height), Is.EqualTo((40, 30, 40, 30)));
            for (int i = 0; i < maskImage.Pixels.Length; i += 3)
                Assert.That(palette, Does.Contain((maskImage.Pixels[i], maskImage.Pixels[i + 1], maskImage.Pixels[i + 2])), $"mask pixel {i / 3}");
            Assert.That(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.All.Match(@"^(sky|horse|grass)\t#[0-9a-f]{6}$"));
        });
    }

    /// <summary>A JPEG stored 37×23 with EXIF orientation 6 (turn 90° clockwise) is segmented as seen: 23×37.</summary>
    [Test]
    public void AJpegIsSegmentedUprightByItsExifOrientation()
    {
        string mask = Path.Combine(folder, "mask.png");
        string turned = Path.Combine(AppContext.BaseDirectory, "fixtures", "opencv", "jpeg", "orientation-6.jpg");
        ReclipProcess.Result result = SegmentPicture(turned, "--classes", "sky,horse,grass", "--out", mask);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        RgbImage maskImage = PngFiles.ReadRgb(mask);
        Assert.That((maskImage.Width, maskImage.Height), Is.EqualTo((23, 37)));
    }

    [Test]
    public void RunningOutOfHostMemoryIsOneLineAndNoOutput()
    {
        Requires.Program("prlimit");
        string mask = Path.Combine(folder, "mask.png");
        // A 2048-pixel long side makes 49,152 tokens of the fixture's 8-pixel patches, whose activations need far more
        // than 2.5 GB of address space; the runtime and the weights fit in it.
        ReclipProcess.Result result = ReclipProcess.RunWithAddressSpaceLimit(2_500_000_000, CachedQueryBank.Environment(folder),
            ["segment", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--image", image, "--short-side", "2048", "--classes", "sky,horse,grass", "--out", mask]);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
            Assert.That(result.Stderr, Does.Match(@"^reclip: out of memory: host memory: cannot allocate [0-9,]+ bytes for a tensor\n$"));
            Assert.That(File.Exists(mask), Is.False);
        });
    }

    [TestCase("sky,,grass", "name 2 is empty")]
    [TestCase("sky,horse,sky", "\"sky\" appears more than once")]
    [TestCase("sky,horse,Sky", "\"sky\" appears more than once (names are compared in lower case")]
    [TestCase(" ", "name 1 is empty")]
    public void BadClassListIsBadInput(string classes, string message)
    {
        ReclipProcess.Result result = Segment("--classes", classes, "--out", Path.Combine(folder, "mask.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain(message));
            Assert.That(File.Exists(Path.Combine(folder, "mask.png")), Is.False);
        });
    }

    /// <summary>A destination that cannot take the file fails before the model runs, naming the path, and writes nothing.</summary>
    [Test]
    public void UnusableOutputPathsAreBadInput()
    {
        string file = Path.Combine(folder, "a-file"), mask = Path.Combine(folder, "mask.png");
        File.WriteAllText(file, "");
        (string[] Arguments, string Message)[] cases =
        [
            (["--out", Path.Combine(file, "mask.png")], $"cannot write: {Path.Combine(file, "mask.png")}: {file} is a file, not a folder"),
            (["--out", folder], $"cannot write: {folder} is a folder, not a file"),
            (["--out", mask, "--overlay", Path.Combine(file, "overlay.png")], $"{file} is a file, not a folder"),
            (["--out", mask, "--overlay", mask], "--overlay and --out are the same file"),
            (["--out", Path.Combine(folder, "mask.jpg")], "the picture is written as PNG; give a name ending in .png"),
        ];
        foreach ((string[] arguments, string message) in cases)
        {
            ReclipProcess.Result result = Segment(["--classes", "sky,horse", .. arguments]);
            Assert.Multiple(() =>
            {
                Assert.That(result.ExitCode, Is.EqualTo(1), string.Join(' ', arguments));
                Assert.That(result.Stderr, Does.Contain(message));
                Assert.That(result.Stderr.TrimEnd('\n'), Does.Not.Contain('\n'), "one line");
                Assert.That(File.Exists(mask), Is.False, "nothing written");
            });
        }
    }

    [Test]
    public void NeitherClassesNorCheckpointIsBadInput()
    {
        ReclipProcess.Result result = Segment("--out", Path.Combine(folder, "mask.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("give --classes"));
        });
    }

    [Test]
    public void BankNotInTheCacheNeedsTheModelsVocabulary()
    {
        ReclipProcess.Result result = Segment("--classes", "sky,horse", "--out", Path.Combine(folder, "mask.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("the text tower has 300 tokens"));
        });
    }

    [Test]
    public void MissingCheckpointIsBadInput()
    {
        string missing = Path.Combine(folder, "none.safetensors");
        ReclipProcess.Result result = Segment("--checkpoint", missing, "--out", Path.Combine(folder, "mask.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain(missing));
        });
    }

    [Test]
    public void FileThatIsNotACheckpointIsBadInput()
    {
        string notHead = ClipFixture.PathOf("weights_openai.safetensors");
        ReclipProcess.Result result = Segment("--checkpoint", notHead, "--out", Path.Combine(folder, "mask.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("not a ReCLIP# head checkpoint"));
        });
    }
}
