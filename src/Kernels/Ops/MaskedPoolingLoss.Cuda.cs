using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA paths of the loss (kernels/maskedpoolingloss.cu around cuBLAS GEMMs), in the CPU path's steps: gather the
/// hypothesis columns, pool and project (two GEMMs), softmax and −log of the target per row. The forward returns the
/// loss to the host, so it waits for the device: |S| floats come back and are summed in double, as on the CPU. (A
/// training step's batch keeps its sum on the device: MaskedPoolingLossBatch.Cuda.cs.)
/// </summary>
public static partial class MaskedPoolingLoss
{
    private static float ForwardCuda(Tensor features, Tensor mask, ReadOnlySpan<int> classes, Tensor text, Tensor probabilities, float logitScale,
        int patches, int classCount, int width)
    {
        int device = DeviceTensors.Require("MaskedPoolingLoss", features, mask, text, probabilities);
        int count = classes.Length;
        LoadedModule module = KernelCache.Load(KernelSources.Get("maskedpoolingloss"), device);
        using Tensor ids = DeviceConstants.Get(classes, mask.Device);
        using Tensor columns = Tensor.Empty([Math.Max(patches, 1), count], DType.F32, mask.Device);
        using Tensor pooled = Tensor.Empty([count, width], DType.F32, mask.Device), losses = Tensor.Empty([count], DType.F32, mask.Device);
        if (patches > 0)
            module.Kernel("pooling_gather_columns").Launch(LaunchShapes.Elementwise((long)patches * count), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(mask)).Pointer(DeviceTensors.Address(ids)).Pointer(DeviceTensors.Address(columns))
                .Int(patches).Int(classCount).Int(count));
        // pooled [|S|, E] = (1/N)·columnsᵀ·F;  logits [|S|, C] = logitScale·pooled·Tᵀ, into the probabilities.
        Cublas.Gemm(device, transposeA: true, transposeB: false, count, width, patches, 1f / patches,
            DeviceTensors.Address(columns), count, DeviceTensors.Address(features), width, 0, DeviceTensors.Address(pooled), width);
        Cublas.Gemm(device, transposeA: false, transposeB: true, count, classCount, width, logitScale,
            DeviceTensors.Address(pooled), width, DeviceTensors.Address(text), width, 0, DeviceTensors.Address(probabilities), classCount);
        module.Kernel("pooling_softmax_loss").Launch(LaunchShapes.WarpPerRow(count), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(probabilities)).Pointer(DeviceTensors.Address(ids)).Pointer(DeviceTensors.Address(losses))
            .Int(count).Int(classCount));
        double total = 0;
        foreach (float loss in losses.ToFloatArray())
            total += loss;
        return (float)(total / count);
    }

    private static void BackwardCuda(Tensor features, Tensor text, ReadOnlySpan<int> classes, Tensor probabilities, Tensor dMask, float gradLoss,
        float logitScale, int patches, int classCount, int width)
    {
        int device = DeviceTensors.Require("MaskedPoolingLoss.Backward", features, text, probabilities, dMask);
        int count = classes.Length;
        if (count == 0 || patches == 0)
        {
            dMask.Clear();
            return;
        }
        LoadedModule module = KernelCache.Load(KernelSources.Get("maskedpoolingloss"), device);
        int[] slot = new int[classCount];
        Array.Fill(slot, -1);
        for (int s = 0; s < count; s++)
            slot[classes[s]] = s;
        using Tensor ids = DeviceConstants.Get(classes, dMask.Device), slots = DeviceConstants.Get<int>(slot, dMask.Device);
        using Tensor dLogits = Tensor.Empty([count, classCount], DType.F32, dMask.Device), dPooled = Tensor.Empty([count, width], DType.F32, dMask.Device);
        using Tensor dColumns = Tensor.Empty([patches, count], DType.F32, dMask.Device);
        module.Kernel("pooling_logit_gradient").Launch(LaunchShapes.Elementwise((long)count * classCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(probabilities)).Pointer(DeviceTensors.Address(ids)).Pointer(DeviceTensors.Address(dLogits))
            .Int(count).Int(classCount));
        // dp [|S|, E] = (logitScale·gradLoss/|S|)·dz·T;  dcolumns [N, |S|] = (1/N)·F·dpᵀ.
        Cublas.Gemm(device, transposeA: false, transposeB: false, count, width, classCount, logitScale * gradLoss / count,
            DeviceTensors.Address(dLogits), classCount, DeviceTensors.Address(text), width, 0, DeviceTensors.Address(dPooled), width);
        Cublas.Gemm(device, transposeA: false, transposeB: true, patches, count, width, 1f / patches,
            DeviceTensors.Address(features), width, DeviceTensors.Address(dPooled), width, 0, DeviceTensors.Address(dColumns), count);
        module.Kernel("pooling_scatter_columns").Launch(LaunchShapes.Elementwise(dMask.ElementCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(dColumns)).Pointer(DeviceTensors.Address(slots)).Pointer(DeviceTensors.Address(dMask))
            .Int(patches).Int(classCount).Int(count));
    }
}
