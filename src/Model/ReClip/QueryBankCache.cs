using System.Security.Cryptography;
using System.Text;
using ReClip.Kernels.Gemm;
using ReClip.Model.Clip;
using ReClip.Runtime.IO;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Model.ReClip;

/// <summary>How <see cref="QueryBankCache.GetOrBuild"/> obtained the bank.</summary>
public enum QueryBankSource
{
    /// <summary>Read from a valid cache file.</summary>
    Cache,

    /// <summary>No cache file: built and stored.</summary>
    Built,

    /// <summary>The cache file was unreadable or held wrong values: rebuilt and stored over it.</summary>
    Rebuilt,
}

/// <summary>
/// The Query bank T [C, E] (spec §2.1: 85 prompts per class through the text tower, ADE's 150 classes take minutes on a
/// CPU) kept on disk as safetensors, one file per (weights file, templates, class names, computation). The key hashes
/// the weights file's full path, size and last-write time (a replaced file gets a new key without hashing gigabytes),
/// a hash of the templates, the class names in order and <see cref="Computation"/>: the vocabulary, the device and
/// vector width, and the build of the code, so that a bank made by another tokenizer, by another width's rounding or
/// by an older reclip is never read in place of this one. Files are written atomically; a file that does not open,
/// lacks the tensor, has another shape or dtype, holds a non-finite value or names other classes is rebuilt, never
/// trusted.
/// </summary>
public static class QueryBankCache
{
    private const string TensorName = "query";
    private const string ClassesKey = "classes";

    /// <summary>$RECLIP_CACHE/query, else $XDG_CACHE_HOME/reclip/query, else ~/.cache/reclip/query.</summary>
    public static string Directory => CacheFolders.Of("query");

    /// <summary>
    /// What decides the bank's values besides the weights, templates and classes: the tokenizer's vocabulary, where the
    /// tower computes (on a CPU, with which vector width: the rounding differs) and the build of the assemblies that
    /// compute it (their module version ids change with their code).
    /// </summary>
    public static string Computation(ClipTokenizer tokenizer, Device device)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        string where = device.IsCpu ? $"cpu {CpuInfo.Simd}" : device.ToString();
        Guid[] builds = [typeof(QueryBank).Assembly.ManifestModule.ModuleVersionId, typeof(Sgemm).Assembly.ManifestModule.ModuleVersionId,
            typeof(Tensor).Assembly.ManifestModule.ModuleVersionId];
        return $"{tokenizer.Fingerprint} {where} {string.Join(' ', builds)}";
    }

    /// <summary>
    /// The bank of <paramref name="text"/>'s tower for the class names, from the cache or built (then stored). The
    /// vocabulary is checked against the tower only when the bank must be built.
    /// </summary>
    public static Tensor GetOrBuild(string weightsPath, TextTransformer text, ClipTokenizer tokenizer, IReadOnlyList<string> classNames,
        out QueryBankSource source, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return GetOrBuild(weightsPath, classNames, text.Config.EmbedDim, Computation(tokenizer, text.Device), () =>
        {
            tokenizer.RequireFits(text.Config, weightsPath);
            return QueryBank.Build(text, tokenizer, classNames);
        }, out source, directory);
    }

    /// <summary>
    /// The cache file of a bank for <paramref name="weightsPath"/> (which must exist), the class names and
    /// <paramref name="computation"/> (<see cref="Computation"/>).
    /// </summary>
    public static string FileFor(string weightsPath, IReadOnlyList<string> classNames, string computation, string? directory)
    {
        ArgumentNullException.ThrowIfNull(weightsPath);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(computation);
        InputFile.RequireFile(weightsPath);
        var weights = new FileInfo(Path.GetFullPath(weightsPath));
        string templates = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', QueryBank.Templates))));
        string material = string.Join('\0', weights.FullName, weights.Length, weights.LastWriteTimeUtc.Ticks, templates, string.Join('\n', classNames),
            computation);
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..32];
        return Path.Combine(directory ?? Directory, key + ".safetensors");
    }

    /// <summary>
    /// T [C, E] from the cache, or from <paramref name="build"/> (then stored). <paramref name="embedDim"/> is the E the
    /// bank must have. A cache folder that cannot be written costs only the store: the built bank is returned.
    /// </summary>
    public static Tensor GetOrBuild(string weightsPath, IReadOnlyList<string> classNames, int embedDim, string computation, Func<Tensor> build,
        out QueryBankSource source, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        string file = FileFor(weightsPath, classNames, computation, directory);
        source = QueryBankSource.Built;
        if (File.Exists(file))
        {
            if (TryRead(file, classNames, embedDim) is Tensor cached)
            {
                source = QueryBankSource.Cache;
                return cached;
            }
            source = QueryBankSource.Rebuilt;
        }
        Tensor bank = build();
        try
        {
            Shape.Require("QueryBankCache built bank", [classNames.Count, embedDim], bank.Shape);
            Store(file, bank, classNames);
            return bank;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return bank;
        }
        catch
        {
            bank.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="bank"/> [C, E] for the class names (atomically).</summary>
    public static void Store(string file, Tensor bank, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(classNames);
        SafetensorsWriter.Write(file, [new(TensorName, bank)], new Dictionary<string, string> { [ClassesKey] = string.Join('\n', classNames) });
    }

    /// <summary>The cached bank if the file is valid for these classes and width, else null.</summary>
    private static Tensor? TryRead(string file, IReadOnlyList<string> classNames, int embedDim)
    {
        try
        {
            using SafetensorsFile stored = SafetensorsFile.Open(file);
            if (!stored.Metadata.TryGetValue(ClassesKey, out string? names) || names != string.Join('\n', classNames))
                return null;
            if (stored.Entries.FirstOrDefault(e => e.Name == TensorName) is not { DType: DType.F32 } entry
                || !entry.Shape.AsSpan().SequenceEqual([classNames.Count, embedDim]))
                return null;
            using Tensor view = stored.Load(TensorName);
            foreach (float value in view.AsSpan<float>())
                if (!float.IsFinite(value))
                    return null;
            return view.Clone();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or WeightFileException or FormatException)
        {
            return null;
        }
    }
}
