using System.Runtime.InteropServices;
using System.Text;

namespace ReClip.Runtime.Cuda;

/// <summary>A kernel source did not compile; <see cref="Log"/> holds NVRTC's compile log.</summary>
public sealed class NvrtcCompileException(string programName, string log)
    : Exception($"NVRTC could not compile {programName}:\n{log}")
{
    public string Log { get; } = log;
}

/// <summary>
/// What NVRTC produced: PTX, machine code (CUBIN) when it compiled for a real architecture (sm_XX), and the mangled
/// names of the requested template instantiations.
/// </summary>
public sealed record CompiledProgram(string Ptx, byte[]? Cubin, IReadOnlyDictionary<string, string> LoweredNames, string Log);

/// <summary>
/// Run-time CUDA compilation. Works without a GPU (CI compiles every kernel this way, through ptxas too); what it
/// produces is loaded by the driver only where one is present.
/// </summary>
public static unsafe class Nvrtc
{
    public static bool IsAvailable => NativeLibraries.Nvrtc.IsLoaded;

    public static Version Version()
    {
        NativeLibraries.Require(NativeLibraries.Nvrtc);
        Check(NvrtcApi.nvrtcVersion(out int major, out int minor), "nvrtcVersion");
        return new Version(major, minor);
    }

    /// <summary>The virtual architectures this NVRTC can target, e.g. 52 … 90.</summary>
    public static int[] SupportedArchitectures()
    {
        NativeLibraries.Require(NativeLibraries.Nvrtc);
        Check(NvrtcApi.nvrtcGetNumSupportedArchs(out int count), "nvrtcGetNumSupportedArchs");
        int[] architectures = new int[count];
        fixed (int* p = architectures)
            Check(NvrtcApi.nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
        return architectures;
    }

    /// <summary>Compiles CUDA C++ to PTX; a source that does not compile raises <see cref="NvrtcCompileException"/> with the log.</summary>
    public static string CompileToPtx(string source, string programName, IReadOnlyList<string> options) =>
        Compile(source, programName, options, [], new Dictionary<string, string>()).Ptx;

    /// <summary>
    /// Compiles CUDA C++ to PTX, and to machine code when the options name a real architecture (sm_XX), and resolves
    /// each name expression (a template instantiation such as "softmax_kernel&lt;128&gt;") to the mangled name the module exports. <paramref name="headers"/> maps the
    /// names the source #includes to their text (NVRTC reads no files).
    /// </summary>
    public static CompiledProgram Compile(string source, string programName, IReadOnlyList<string> options, IReadOnlyList<string> nameExpressions,
        IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nameExpressions);
        ArgumentNullException.ThrowIfNull(headers);
        NativeLibraries.Require(NativeLibraries.Nvrtc);
        nint program = CreateProgram(source, programName, headers);
        try
        {
            foreach (string expression in nameExpressions)
                Check(NvrtcApi.nvrtcAddNameExpression(program, expression), "nvrtcAddNameExpression");
            int status = CompileWithOptions(program, options);
            if (status == NvrtcApi.CompilationError)
                throw new NvrtcCompileException(programName, ReadLog(program));
            Check(status, "nvrtcCompileProgram");
            Check(NvrtcApi.nvrtcGetPTXSize(program, out nuint size), "nvrtcGetPTXSize");
            byte[] ptx = new byte[(int)size];
            fixed (byte* p = ptx)
                Check(NvrtcApi.nvrtcGetPTX(program, p), "nvrtcGetPTX");
            Check(NvrtcApi.nvrtcGetCUBINSize(program, out nuint cubinSize), "nvrtcGetCUBINSize");
            byte[]? cubin = cubinSize > 0 ? new byte[(int)cubinSize] : null;
            if (cubin is not null)
                fixed (byte* p = cubin)
                    Check(NvrtcApi.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
            var lowered = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string expression in nameExpressions)
            {
                Check(NvrtcApi.nvrtcGetLoweredName(program, expression, out nint name), "nvrtcGetLoweredName");
                lowered[expression] = Marshal.PtrToStringUTF8(name) ?? expression;
            }
            return new CompiledProgram(Encoding.UTF8.GetString(ptx).TrimEnd('\0'), cubin, lowered, ReadLog(program));
        }
        finally
        {
            NvrtcApi.nvrtcDestroyProgram(ref program);
        }
    }

    private static nint CreateProgram(string source, string programName, IReadOnlyDictionary<string, string> headers)
    {
        KeyValuePair<string, string>[] entries = [.. headers];
        nint[] texts = new nint[entries.Length], names = new nint[entries.Length];
        try
        {
            for (int i = 0; i < entries.Length; i++)
            {
                names[i] = Marshal.StringToCoTaskMemUTF8(entries[i].Key);
                texts[i] = Marshal.StringToCoTaskMemUTF8(entries[i].Value);
            }
            fixed (nint* pt = texts, pn = names)
            {
                Check(NvrtcApi.nvrtcCreateProgram(out nint program, source, programName, entries.Length, (byte**)pt, (byte**)pn), "nvrtcCreateProgram");
                return program;
            }
        }
        finally
        {
            foreach (nint text in texts) Marshal.FreeCoTaskMem(text);
            foreach (nint name in names) Marshal.FreeCoTaskMem(name);
        }
    }

    private static int CompileWithOptions(nint program, IReadOnlyList<string> options)
    {
        nint[] buffers = new nint[options.Count];
        try
        {
            for (int i = 0; i < options.Count; i++)
                buffers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            fixed (nint* p = buffers)
                return NvrtcApi.nvrtcCompileProgram(program, options.Count, (byte**)p);
        }
        finally
        {
            foreach (nint buffer in buffers)
                Marshal.FreeCoTaskMem(buffer);
        }
    }

    private static string ReadLog(nint program)
    {
        Check(NvrtcApi.nvrtcGetProgramLogSize(program, out nuint size), "nvrtcGetProgramLogSize");
        byte[] log = new byte[(int)size];
        fixed (byte* p = log)
            Check(NvrtcApi.nvrtcGetProgramLog(program, p), "nvrtcGetProgramLog");
        return Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new CudaException(call, status, Marshal.PtrToStringUTF8(NvrtcApi.nvrtcGetErrorString(status)) ?? $"NVRTC_ERROR_{status}");
    }
}
