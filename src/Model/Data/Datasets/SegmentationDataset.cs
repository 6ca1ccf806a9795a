namespace ReClip.Model.Data.Datasets;

/// <summary>
/// One split of a segmentation dataset in a standard layout (spec §1.1): its class names and its images with
/// their label files, read as RGB and as exact label indices. Opening checks that the split list or image folder
/// exists and that every image has its label file; reading applies REDUCE_ZERO_LABEL where the preset says and
/// checks every label value against [0, C) or 255.
/// </summary>
public sealed class SegmentationDataset
{
    private SegmentationDataset(DatasetPreset preset, string root, string split, IReadOnlyList<string> classes, IReadOnlyList<DatasetSample> samples)
    {
        Preset = preset;
        Root = root;
        Split = split;
        Classes = classes;
        Samples = samples;
    }

    /// <summary>The preset, with <see cref="DatasetPreset.NumClasses"/> equal to the number of class names.</summary>
    public DatasetPreset Preset { get; }

    public string Root { get; }

    public string Split { get; }

    public IReadOnlyList<string> Classes { get; }

    public IReadOnlyList<DatasetSample> Samples { get; }

    /// <summary>
    /// The SHA-256 (lower-case hex) of the sample ids in order, one a line: which images, in which order, whatever the
    /// root's path on a machine. Shard files and hypothesis files carry it, so that results made for another split are told apart.
    /// </summary>
    public string SampleDigest => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(string.Join('\n', Samples.Select(s => s.Id)))));

    /// <summary>Whether the samples have label files (always for the standard layouts; for a folder, when it has labels/).</summary>
    public bool HasLabels => Samples.Count > 0 && Samples[0].LabelPath is not null;

    /// <summary>
    /// Opens <paramref name="split"/> ("train" or "val") of the dataset under <paramref name="root"/> (its DATAROOT).
    /// Image lists from split files keep the file's order; ADE20K and COCO-Stuff list every *.jpg of the split folder,
    /// which the authors read in <c>os.listdir</c> order (file-system dependent); here they are sorted ordinally so
    /// that runs are reproducible. The generic folder has no splits: <paramref name="split"/> is only recorded.
    /// </summary>
    public static SegmentationDataset Open(DatasetPreset preset, string root, string split)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(split);
        if (preset.Layout != DatasetLayout.Folder && split is not ("train" or "val"))
            throw new ArgumentException($"unknown split '{split}' (expected train or val)", nameof(split));
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"{root}: dataset folder not found");
        IReadOnlyList<string> classes = preset.Layout == DatasetLayout.Folder ? ReadClassList(root) : DatasetClasses.Of(preset.Layout);
        List<DatasetSample> samples = preset.Layout switch
        {
            DatasetLayout.Voc => FromSplitFile(Path.Combine(root, "ImageSets", "Segmentation", split + ".txt"),
                id => Path.Combine(root, "JPEGImages", id + ".jpg"), id => Path.Combine(root, "SegmentationClass", id + ".png")),
            DatasetLayout.Context => FromSplitFile(Path.Combine(root, "ImageSets", "SegmentationContext", split + ".txt"),
                id => Path.Combine(root, "JPEGImages", id + ".jpg"), id => Path.Combine(root, "SegmentationClassContext", id + ".png")),
            DatasetLayout.Ade => FromFolder(Path.Combine(root, "images", split == "train" ? "training" : "validation"), ["*.jpg"],
                id => Path.Combine(root, "annotations", split == "train" ? "training" : "validation", id + ".png"), required: true),
            DatasetLayout.Cityscapes => FromSplitFile(Path.Combine(root, split + ".txt"),
                id => Path.Combine(root, "leftImg8bit", split, id + "_leftImg8bit.png"), id => Path.Combine(root, "gtFine", split, id + "_gtFine_labelTrainIds.png")),
            DatasetLayout.CocoStuff => FromFolder(Path.Combine(root, "images", split + "2017"), ["*.jpg"],
                id => Path.Combine(root, "annotations", split + "2017", id + "_27labelTrainIds.png"), required: true),
            DatasetLayout.Folder => FromFolder(Path.Combine(root, "images"), ["*.png", "*.jpg", "*.jpeg"],
                id => Path.Combine(root, "labels", id + ".png"), required: Directory.Exists(Path.Combine(root, "labels"))),
            _ => throw new ArgumentOutOfRangeException(nameof(preset), preset.Layout, "unknown layout"),
        };
        if (samples.Count == 0)
            throw new InvalidDataException($"{root}: the {split} split of {preset.Name} lists no images");
        return new SegmentationDataset(preset with { NumClasses = classes.Count }, root, split, classes, samples);
    }

    /// <summary>
    /// The image as RGB, decoded by SkiaSharp. The authors decode with <c>cv2.imdecode(IMREAD_COLOR)</c> (and with PIL
    /// for the hypothesis): all three decode JPEG with libjpeg-turbo, to the same bytes on every file checked (baseline
    /// and progressive, 4:2:0, 4:2:2 and 4:4:4, sizes that are not whole blocks: tests/fixtures/opencv). OpenCV also
    /// turns a picture by its EXIF orientation, which this does not (<see cref="PngFiles.ReadRgbOriented"/> would): a
    /// dataset's label maps are stored unturned, the hypothesis reads images with PIL, which does not turn them either,
    /// and the benchmark images carry no orientation that we know of.
    /// </summary>
    public RgbImage ReadImage(DatasetSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return PngFiles.ReadRgb(sample.ImagePath);
    }

    /// <summary>The sample's label map as training and evaluation use it: REDUCE_ZERO_LABEL applied when set, values checked.</summary>
    public LabelMap ReadLabels(DatasetSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        string path = sample.LabelPath ?? throw new InvalidOperationException($"{sample.ImagePath}: the dataset at {Root} has no labels");
        LabelMap labels = IndexedPng.Read(path);
        if (Preset.ReduceZeroLabel)
            ReduceZeroLabel(labels.Labels);
        int classes = Classes.Count;
        foreach (byte value in labels.Labels)
            if (value >= classes && value != LabelMap.Ignore)
                throw new InvalidDataException(Preset.ReduceZeroLabel
                    ? $"{path}: label value {value + 1} (class {value} after REDUCE_ZERO_LABEL) is outside 1..{classes} and not 0 or 255"
                    : $"{path}: label value {value} is outside 0..{classes - 1} and not 255");
        return labels;
    }

    /// <summary>Image and labels together, checked to have the same size.</summary>
    public (RgbImage Image, LabelMap Labels) Read(DatasetSample sample)
    {
        RgbImage image = ReadImage(sample);
        LabelMap labels = ReadLabels(sample);
        if (image.Width != labels.Width || image.Height != labels.Height)
            throw new InvalidDataException($"{sample.LabelPath}: labels are {labels.Width}x{labels.Height} but {sample.ImagePath} is {image.Width}x{image.Height}");
        return (image, labels);
    }

    /// <summary>mmseg's reduce_zero_label (spec §1.1): 0 → 255, then every value minus 1, then 254 → 255 (255 stays 255).</summary>
    public static void ReduceZeroLabel(Span<byte> labels)
    {
        for (int i = 0; i < labels.Length; i++)
            labels[i] = labels[i] is 0 or 255 ? LabelMap.Ignore : (byte)(labels[i] - 1);
    }

    private static List<DatasetSample> FromSplitFile(string listPath, Func<string, string> image, Func<string, string> label)
    {
        if (!File.Exists(listPath))
            throw new FileNotFoundException($"{listPath}: split list not found", listPath);
        var samples = new List<DatasetSample>();
        foreach (string line in File.ReadLines(listPath))
        {
            string id = line.Trim();
            if (id.Length == 0)
                continue;
            samples.Add(Checked(new DatasetSample(id, image(id), label(id)), listPath));
        }
        return samples;
    }

    private static List<DatasetSample> FromFolder(string folder, string[] patterns, Func<string, string> label, bool required)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: image folder not found");
        string[] files = [.. patterns.SelectMany(p => Directory.EnumerateFiles(folder, p, new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive }))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var samples = new List<DatasetSample>(files.Length);
        foreach (string file in files)
        {
            string id = Path.GetFileNameWithoutExtension(file);
            samples.Add(Checked(new DatasetSample(id, file, required ? label(id) : null), folder));
        }
        return samples;
    }

    private static DatasetSample Checked(DatasetSample sample, string listedBy)
    {
        if (!File.Exists(sample.ImagePath))
            throw new FileNotFoundException($"{sample.ImagePath}: image listed by {listedBy} not found", sample.ImagePath);
        if (sample.LabelPath is not null && !File.Exists(sample.LabelPath))
            throw new FileNotFoundException($"{sample.LabelPath}: label of {sample.ImagePath} not found", sample.LabelPath);
        return sample;
    }

    private static string[] ReadClassList(string root)
    {
        string path = Path.Combine(root, "classes.txt");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: class list not found (one class name per line, in label order)", path);
        string[] lines;
        try
        {
            // Strict UTF-8: a name in another encoding would reach CLIP's tokenizer as replacement characters.
            lines = File.ReadAllLines(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text");
        }
        string[] names = [.. lines.Select(l => l.TrimEnd('\r')).Reverse().SkipWhile(l => l.Trim().Length == 0).Reverse()];
        if (names.Length == 0)
            throw new InvalidDataException($"{path}: no class names");
        if (names.Length > LabelMap.Ignore)
            throw new InvalidDataException($"{path}: {names.Length} classes; labels are bytes with 255 = ignore, so at most 255");
        int blank = Array.FindIndex(names, n => n.Trim().Length == 0);
        if (blank >= 0)
            throw new InvalidDataException($"{path}: line {blank + 1} is empty");
        int control = Array.FindIndex(names, n => n.Any(char.IsControl));
        if (control >= 0)
            throw new InvalidDataException($"{path}: line {control + 1} holds a control character");
        if (RepeatedClassName.Find(names) is (int first, int again))
            throw new InvalidDataException($"{path}: line {again + 1} names \"{names[again].Trim()}\" again (line {first + 1}; names are compared in lower case, as CLIP reads them)");
        return names;
    }
}
