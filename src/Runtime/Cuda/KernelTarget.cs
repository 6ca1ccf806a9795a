namespace ReClip.Runtime.Cuda;

/// <summary>
/// What NVRTC compiles a kernel for: machine code of a real architecture (sm_90), which the driver loads as it is, or
/// PTX of a virtual one (compute_90), which the driver compiles when it loads it, for whatever GPU it runs on.
/// </summary>
public readonly record struct KernelTarget(int Architecture, bool MachineCode)
{
    /// <summary>NVRTC's option for this target.</summary>
    public string Option => $"--gpu-architecture={this}";

    public override string ToString() => (MachineCode ? "sm_" : "compute_") + Architecture;
}
