using System.Security.Cryptography;

namespace ReClip.Runtime.IO;

/// <summary>
/// The SHA-256 of a file's bytes, lower-case hex: the identity of an input that must be the same file on every
/// machine of a sharded run, whatever its path or time stamp there.
/// </summary>
public static class FileDigest
{
    public static string Sha256(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        InputFile.RequireFile(path);
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
