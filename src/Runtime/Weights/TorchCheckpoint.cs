using System.Text;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// A PyTorch zip checkpoint: a <c>torch.save</c> state dict (also open_clip's wrapped and
/// <c>module.</c>-prefixed forms) or a <c>torch.jit.save</c> TorchScript archive such as OpenAI's CLIP
/// <c>ViT-B-16.pt</c>. The archive's <c>data.pkl</c> runs through <see cref="PickleMachine"/> with an
/// allow-list that only rebuilds tensors, so no code in the file is ever executed; TorchScript's
/// <c>code/</c> and <c>constants.pkl</c> are never read. Storages are mapped, not read: a tensor that needs
/// no conversion points into the file.
/// </summary>
public sealed class TorchCheckpoint : IWeightFile
{
    /// <summary>A checkpoint's pickle holds only names, shapes and storage keys, about a hundred bytes per tensor.</summary>
    public const long MaxPickleBytes = 256L << 20;

    private const byte PickleProtocolOpcode = 0x80;
    private readonly BoundedZipReader zip;
    private readonly Dictionary<string, IndexedTensor> tensors;

    /// <summary>Tensors of an element type we do not load, left out of <see cref="Entries"/> as a safetensors file's are; loading one names its type.</summary>
    private readonly Dictionary<string, TorchScalarType> unloadable;
    private bool disposed;

    private TorchCheckpoint(string path, BoundedZipReader zip, List<IndexedTensor> index, Dictionary<string, TorchScalarType> unloadable)
    {
        Path = path;
        this.zip = zip;
        this.unloadable = unloadable;
        Entries = index.ConvertAll(t => t.Entry);
        tensors = index.ToDictionary(t => t.Entry.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    public IReadOnlyList<WeightEntry> Entries { get; }

    /// <summary>Opens and validates the whole checkpoint: archive layout, pickle, every tensor's storage and extent.</summary>
    /// <exception cref="WeightFileException">the file is unreadable, malformed, unsafe or a legacy (pre-1.6) torch.save file.</exception>
    public static TorchCheckpoint Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ReadOnlyMapping file = MapFile(path);
        BoundedZipReader? zip = null;
        try
        {
            RefuseLegacyFormat(file, path);
            zip = new BoundedZipReader(file, path);
            var unloadable = new Dictionary<string, TorchScalarType>(StringComparer.Ordinal);
            return new TorchCheckpoint(path, zip, Index(zip, unloadable), unloadable);
        }
        catch
        {
            if (zip is null) file.Dispose();
            else zip.Dispose();
            throw;
        }
    }

    /// <summary>Whether the checkpoint holds the tensor, even of an element type <see cref="Load"/> refuses (as <see cref="SafetensorsFile.Contains"/>).</summary>
    public bool Contains(string name) => tensors.ContainsKey(name) || unloadable.ContainsKey(name);

    public Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (unloadable.TryGetValue(name, out TorchScalarType? element))
            throw TorchTensorLayout.Unloadable(Path, name, element);
        if (!tensors.TryGetValue(name, out IndexedTensor? tensor))
            throw new WeightFileException(Path, "no tensor of this name in the checkpoint", name);
        return TorchTensorLoader.Load(zip, tensor.Entry, tensor.Record, tensor.StorageEntry);
    }

    /// <summary>Every entry of the archive, TorchScript's code and constants included, against its CRC-32.</summary>
    public string? VerifyChecksums()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int verified = zip.RequireAllIntact();
        return verified == 0 ? null : $"the CRC-32 of {verified} zip entries";
    }

    /// <summary>Tensors already loaded keep the mapped file alive until they are disposed too.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        zip.Dispose();
    }

    private static ReadOnlyMapping MapFile(string path)
    {
        try
        {
            long length = new FileInfo(path).Length;
            if (length == 0)
                throw new WeightFileException(path, "the file is empty");
            return ReadOnlyMapping.Open(path, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(path, $"cannot read the file: {e.Message}", inner: e);
        }
    }

    /// <summary>Before PyTorch 1.6, torch.save wrote a bare pickle stream (it starts with PROTO); we read only the zip format.</summary>
    private static void RefuseLegacyFormat(ReadOnlyMapping file, string path)
    {
        if (file.Span(0, 1)[0] == PickleProtocolOpcode)
            throw new WeightFileException(path, "this is a legacy (pre-1.6) torch.save file; re-save it in the zip format: torch.save(torch.load(old), new) with PyTorch 1.6 or later");
    }

    private static List<IndexedTensor> Index(BoundedZipReader zip, Dictionary<string, TorchScalarType> unloadable)
    {
        string path = zip.Path;
        string root = ArchiveRoot(zip);
        ZipEntry pickle = zip.Find($"{root}/data.pkl")
            ?? throw new WeightFileException(path, $"no {root}/data.pkl in the archive: not a PyTorch checkpoint");
        RequireLittleEndian(zip, root);
        var resolver = new TorchPickleResolver(allowModuleClasses: IsTorchScript(zip, root));
        object? value = PickleMachine.Run(zip.ReadRecord(pickle, MaxPickleBytes), resolver, path, pickle.Name);
        var index = new List<IndexedTensor>();
        foreach ((string name, TorchTensorRecord record) in TorchStateDictWalker.Collect(value, path))
        {
            // One int8 buffer or complex tensor in a state dict does not make the rest unreadable.
            if (record.Storage.Element.Target is not DType dtype)
            {
                unloadable[name] = record.Storage.Element;
                continue;
            }
            ZipEntry storage = zip.Find($"{root}/data/{record.Storage.Key}")
                ?? throw new WeightFileException(path, $"its {record.Storage} has no {root}/data/{record.Storage.Key} entry in the archive", name);
            index.Add(new IndexedTensor(TorchTensorLayout.Validate(name, record, dtype, storage, path), record, storage));
        }
        return index;
    }

    /// <summary>PyTorch puts every record under one folder named after the file it first saved to ("archive", "ViT-B-16", ...).</summary>
    private static string ArchiveRoot(BoundedZipReader zip)
    {
        string first = zip.Entries.Count > 0 ? zip.Entries[0].Name : "";
        int slash = first.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
            throw new WeightFileException(zip.Path, "the archive has no top-level folder holding data.pkl: not a PyTorch checkpoint");
        return first[..slash];
    }

    /// <summary>PyTorch 2.1+ records the writer's byte order; storages are raw machine bytes, and we read little-endian only.</summary>
    private static void RequireLittleEndian(BoundedZipReader zip, string root)
    {
        if (zip.Find($"{root}/byteorder") is not ZipEntry entry)
            return;
        string order = Encoding.ASCII.GetString(zip.ReadRecord(entry, maxBytes: 16)).Trim();
        if (order != "little")
            throw new WeightFileException(zip.Path, $"the checkpoint was written with byte order '{order}'; only little-endian checkpoints are read");
    }

    /// <summary>torch.jit.save writes constants.pkl and the module code next to data.pkl; torch.save writes neither.</summary>
    private static bool IsTorchScript(BoundedZipReader zip, string root) =>
        zip.Find($"{root}/constants.pkl") is not null
        || zip.Entries.Any(e => e.Name.StartsWith($"{root}/code/", StringComparison.Ordinal));

    private sealed record IndexedTensor(WeightEntry Entry, TorchTensorRecord Record, ZipEntry StorageEntry);
}
