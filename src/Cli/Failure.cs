using System.Text.Json;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Cli;

/// <summary>
/// Turns an exception that escaped a command into one line for stderr and an exit code: problems with
/// what the user gave us (files, values) are "bad input"; everything else is a runtime failure.
/// </summary>
public static class Failure
{
    public static int ExitCodeOf(Exception exception) => Cause(exception) switch
    {
        // A shape mismatch between our own tensors is a bug of ours, not of the user's input.
        TensorShapeException => ExitCode.RuntimeFailure,
        WeightFileException or OutputPathException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
            or FormatException or JsonException or ArgumentException or UnauthorizedAccessException => ExitCode.BadInput,
        _ => ExitCode.RuntimeFailure,
    };

    /// <summary>The message on one line: inner newlines (e.g. a compile log) are folded.</summary>
    public static string OneLine(Exception exception)
    {
        exception = Cause(exception);
        string message = exception.Message;
        // .NET appends " (Parameter 'name')": a name of our code, not of anything the user typed.
        if (exception is ArgumentException { ParamName: { } parameter })
            message = message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
        if (exception is EntryPointNotFoundException missing && NativeLibraries.Explain(missing) is string explained)
            message = explained;
        message = message.ReplaceLineEndings(" | ").Trim();
        return exception is WeightFileException or CudaException or CudaUnavailableException
            ? message
            : $"{Describe(exception)}: {message}";
    }

    /// <summary>
    /// A static initialiser's failure (e.g. the compute pool reading a bad RECLIP_THREADS) is reported as what it wrapped, and
    /// parallel work's (several workers failing the same way at once, a full disk) as the first of its failures.
    /// </summary>
    private static Exception Cause(Exception exception) => exception switch
    {
        TypeInitializationException { InnerException: Exception inner } => Cause(inner),
        AggregateException aggregate when aggregate.Flatten().InnerExceptions is [Exception first, ..] => Cause(first),
        _ => exception,
    };

    private static string Describe(Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => "not found",
        OutputPathException => "cannot write",
        OutOfMemoryException => "out of memory",
        ArgumentException or FormatException => "invalid argument",
        _ => "error",
    };
}
