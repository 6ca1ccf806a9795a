using System.Runtime.InteropServices;

namespace ReClip.Runtime.IO;

/// <summary>
/// What kind of file system object a path is, beyond what .NET tells (it reports a named pipe or a device as a file):
/// an output must be a regular file, because a command writes it by renaming a finished file over it, which would
/// put a plain file in place of a pipe or a device. From <c>statx(2)</c>, whose layout is the same on every Linux
/// architecture; where the C library has no <c>statx</c>, nothing is known and nothing is refused.
/// </summary>
internal static unsafe partial class FileKind
{
    private const int CurrentFolder = -100;     // AT_FDCWD
    private const uint TypeField = 0x1;         // STATX_TYPE
    private const int StatxSize = 256, ModeOffset = 28;
    private const int TypeMask = 0xF000;        // S_IFMT

    /// <summary>"a named pipe", "a character device", "a block device" or "a socket" for such an object at <paramref name="path"/> (links followed); null for a regular file, a folder, nothing, or when it cannot be told.</summary>
    public static string? Special(string path)
    {
        byte* buffer = stackalloc byte[StatxSize];
        try
        {
            if (Statx(CurrentFolder, path, 0, TypeField, buffer) != 0)
                return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
        int type = *(ushort*)(buffer + ModeOffset) & TypeMask;
        return type switch
        {
            0x1000 => "a named pipe",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null,
        };
    }

    [LibraryImport("libc.so.6", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int folder, string path, int flags, uint mask, byte* buffer);
}
