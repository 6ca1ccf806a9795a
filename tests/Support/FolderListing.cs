using ReClip.Runtime.IO;

namespace ReClip.Tests.Support;

/// <summary>A folder's files as "relative/path sha256" lines in ordinal order: equal listings mean the same names and the same bytes.</summary>
public static class FolderListing
{
    public static IReadOnlyList<string> Of(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(path => $"{Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/')} {FileDigest.Sha256(path)}")
            .Order(StringComparer.Ordinal)];
}
