using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw NVRTC entry points (nvrtc.h). Call through <see cref="Nvrtc"/>.</summary>
internal static unsafe partial class NvrtcApi
{
    public const int CompilationError = 6;

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcVersion(out int major, out int minor);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial nint nvrtcGetErrorString(int status);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetNumSupportedArchs(out int count);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetSupportedArchs(int* architectures);

    [LibraryImport(NativeLibraries.NvrtcName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(out nint program, string source, string name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetProgramLogSize(nint program, out nuint size);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetPTXSize(nint program, out nuint size);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetPTX(nint program, byte* ptx);

    /// <summary>Machine code exists only for a real architecture (sm_XX); for a virtual one the size is 0.</summary>
    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetCUBINSize(nint program, out nuint size);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(NativeLibraries.NvrtcName)]
    public static partial int nvrtcDestroyProgram(ref nint program);

    [LibraryImport(NativeLibraries.NvrtcName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcAddNameExpression(nint program, string nameExpression);

    [LibraryImport(NativeLibraries.NvrtcName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcGetLoweredName(nint program, string nameExpression, out nint loweredName);
}
