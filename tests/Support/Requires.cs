using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Support;

/// <summary>
/// Skips (not passes) tests whose hardware or library is absent. NVRTC is the exception in CI: CI
/// installs it, so its absence there is a failure, not a skip.
/// </summary>
public static class Requires
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void CudaDevice()
    {
        if (!CudaDriver.IsAvailable)
            Assert.Ignore($"no usable CUDA driver: {CudaDriver.UnavailableReason}");
    }

    /// <summary>Skips when <paramref name="name"/> is not an executable on the PATH.</summary>
    public static void Program(string name)
    {
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (!folders.Any(folder => File.Exists(Path.Combine(folder, name))))
            Assert.Ignore($"{name} is not on the PATH");
    }

    public static void Nvrtc()
    {
        if (ReClip.Runtime.Cuda.Nvrtc.IsAvailable)
            return;
        string reason = $"NVRTC not found: {NativeLibraries.Nvrtc.Problem}";
        if (InCi)
            Assert.Fail(reason + " (CI installs it with tools/install-nvrtc.sh)");
        Assert.Ignore(reason);
    }
}
