namespace ReClip.Runtime.Cuda;

/// <summary>A CUDA driver, NVRTC or cuBLAS call returned an error; the message names the call and the status.</summary>
public sealed class CudaException(string call, int status, string statusName, string? detail = null)
    : Exception($"{call} failed: {statusName} ({status}){(detail is null ? "" : ": " + detail)}")
{
    public string Call { get; } = call;

    public int Status { get; } = status;

    public string StatusName { get; } = statusName;
}

/// <summary>A CUDA library could not be loaded, or no device is usable.</summary>
public sealed class CudaUnavailableException(string message) : Exception(message);
