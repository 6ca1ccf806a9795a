using System.Runtime.InteropServices;
using ReClip.Kernels.Cuda;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of BatchNorm2d (kernels/batchnorm.cu). The per-channel sums are doubles, kept in f32 tensors of
/// twice the length (the runtime has no f64 element type); with a group they go through the host between the passes
/// for the all-reduce, as the CPU path's do, so every rank normalises with the statistics of the whole batch.
/// </summary>
public static partial class BatchNorm2d
{
    private const uint Threads = 256;

    private static void ForwardTrainingCuda(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Tensor mean, Tensor rstd,
        float momentum, float eps, ICollective? group, long n)
    {
        int device = DeviceTensors.Require("BatchNorm2d.ForwardTraining", x, gamma, beta, runningMean, runningVar, y, mean, rstd);
        (int batch, int channels, int spatial) = (x.Size(0), x.Size(1), x.Size(2) * x.Size(3));
        if (channels == 0) return;
        LoadedModule module = KernelCache.Load(KernelSources.Get("batchnorm"), device);
        var perChannel = new LaunchShape((uint)channels, 1, 1, Threads);
        using Tensor sums = Doubles(channels, x.Device), squares = Doubles(channels, x.Device);
        module.Kernel("batchnorm_sums").Launch(perChannel, null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(sums)).Int(batch).Int(channels).Int(spatial));
        using Tensor totals = AllReduced(group, sums);
        module.Kernel("batchnorm_squares").Launch(perChannel, null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(totals)).Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(squares))
            .Int(batch).Int(channels).Int(spatial).Long(n));
        using Tensor squareTotals = AllReduced(group, squares);
        module.Kernel("batchnorm_update").Launch(LaunchShape.Cover(channels, Threads), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(squareTotals)).Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(rstd))
            .Pointer(DeviceTensors.Address(runningMean)).Pointer(DeviceTensors.Address(runningVar)).Int(channels).Long(n).Float(momentum).Float(eps));
        Affine(module, x, y, mean, rstd, gamma, beta, fromVariance: false, eps);
    }

    private static void ForwardEvalCuda(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, float eps)
    {
        int device = DeviceTensors.Require("BatchNorm2d.ForwardEval", x, gamma, beta, runningMean, runningVar, y);
        Affine(KernelCache.Load(KernelSources.Get("batchnorm"), device), x, y, runningMean, runningVar, gamma, beta, fromVariance: true, eps);
    }

    private static void BackwardCuda(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dgamma, Tensor dbeta,
        ICollective? group, long n)
    {
        int device = DeviceTensors.Require("BatchNorm2d.Backward", dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
        (int batch, int channels, int spatial) = (x.Size(0), x.Size(1), x.Size(2) * x.Size(3));
        if (channels == 0) return;
        LoadedModule module = KernelCache.Load(KernelSources.Get("batchnorm"), device);
        // Σdy of channel c at [c], Σdy·x̂ at [C + c]: one all-reduce for both.
        using Tensor sums = Doubles(2 * channels, x.Device);
        module.Kernel("batchnorm_backward_sums").Launch(new LaunchShape((uint)channels, 1, 1, Threads), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(rstd))
            .Pointer(DeviceTensors.Address(sums)).Pointer(DeviceTensors.Address(dgamma)).Pointer(DeviceTensors.Address(dbeta))
            .Int(batch).Int(channels).Int(spatial));
        using Tensor totals = AllReduced(group, sums);
        if (dx.ElementCount == 0) return;
        module.Kernel("batchnorm_backward_input").Launch(LaunchShapes.Elementwise(dx.ElementCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(rstd))
            .Pointer(DeviceTensors.Address(gamma)).Pointer(DeviceTensors.Address(totals)).Pointer(DeviceTensors.Address(dx))
            .Int(batch).Int(channels).Int(spatial).Long(n));
    }

    private static void Affine(LoadedModule module, Tensor x, Tensor y, Tensor mean, Tensor scaleSource, Tensor gamma, Tensor beta, bool fromVariance, float eps)
    {
        if (y.ElementCount == 0) return;
        module.Kernel("batchnorm_affine").Launch(LaunchShapes.Elementwise(y.ElementCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(scaleSource))
            .Pointer(DeviceTensors.Address(gamma)).Pointer(DeviceTensors.Address(beta)).Int(fromVariance ? 1 : 0).Float(eps)
            .Int(x.Size(0)).Int(x.Size(1)).Int(x.Size(2) * x.Size(3)));
    }

    /// <summary>Room for <paramref name="count"/> doubles on the device, as an f32 tensor of twice the length.</summary>
    private static Tensor Doubles(int count, Device device) => Tensor.Empty([2 * count], DType.F32, device);

    /// <summary>
    /// The doubles of <paramref name="sums"/> summed over the group's ranks, through the host (a few per channel), as a
    /// new device tensor; without a group, another reference to <paramref name="sums"/>. The caller disposes it.
    /// </summary>
    private static Tensor AllReduced(ICollective? group, Tensor sums)
    {
        if (group is null) return sums.Contiguous();
        using Tensor host = sums.ToDevice(Device.Cpu);
        group.AllReduceSum(MemoryMarshal.Cast<float, double>(host.AsSpan<float>()));
        return host.ToDevice(sums.Device);
    }
}
