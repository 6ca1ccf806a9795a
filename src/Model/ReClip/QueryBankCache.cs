using ReClip.Runtime.IO;
using System.Security.Cryptography;
using System.Text;
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
/// CPU) kept on disk as safetensors, one file per (weights file, templates, class names). The key hashes the weights
/// file's full path, size and last-write time (a replaced file gets a new key without hashing gigabytes), a hash of
/// the templates and the class names in order. Files are written atomically; a file that does not open, lacks the
/// tensor, has another shape or dtype, holds a non-finite value or names other classes is rebuilt, never trusted.
/// </summary>
public static class QueryBankCache
{
    private const string TensorName = "query";
    private const string ClassesKey = "classes";

    /// <summary>$RECLIP_CACHE/query, else $XDG_CACHE_HOME/reclip/query, else ~/.cache/reclip/query.</summary>
    public static string Directory => CacheFolders.Of("query");

    /// <summary>The cache file of a bank for <paramref name="weightsPath"/> (which must exist) and the class names.</summary>
    public static string FileFor(string weightsPath, IReadOnlyList<string> classNames, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(weightsPath);
        ArgumentNullException.ThrowIfNull(classNames);
        var weights = new FileInfo(Path.GetFullPath(weightsPath));
        if (!weights.Exists)
            throw new FileNotFoundException($"{weightsPath}: no such file", weightsPath);
        string templates = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', QueryBank.Templates))));
        string material = string.Join('\0', weights.FullName, weights.Length, weights.LastWriteTimeUtc.Ticks, templates, string.Join('\n', classNames));
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..32];
        return Path.Combine(directory ?? Directory, key + ".safetensors");
    }

    /// <summary>
    /// T [C, E] from the cache, or from <paramref name="build"/> (then stored). <paramref name="embedDim"/> is the E the
    /// bank must have. A cache folder that cannot be written costs only the store: the built bank is returned.
    /// </summary>
    public static Tensor GetOrBuild(string weightsPath, IReadOnlyList<string> classNames, int embedDim, Func<Tensor> build,
        out QueryBankSource source, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        string file = FileFor(weightsPath, classNames, directory);
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
