using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The batched CUDA path of the loss (the batch_ kernels of kernels/maskedpoolingloss.cu between cuBLAS GEMMs): every
/// image pools all C columns of its mask in one strided-batched GEMM, the [B·C, C] logits come from one more, and the
/// hypotheses only decide which rows count (a membership mask [B, C], kept on the device per content). The backward
/// mirrors it: two GEMMs give dMask directly, its columns outside a hypothesis exactly 0.
/// </summary>
public static partial class MaskedPoolingLoss
{
    private static void ForwardBackwardCuda(Tensor features, Tensor mask, int[] membership, Tensor? membershipOnDevice, Tensor text, Tensor total,
        Tensor dMask, float gradLoss, float logitScale, int batch, int patches, int classCount, int width)
    {
        int device = DeviceTensors.Require("MaskedPoolingLoss", features, mask, text, total, dMask);
        DeviceTensors.RequireAligned8("MaskedPoolingLoss total", total);
        if (membershipOnDevice is not null && DeviceTensors.Require("MaskedPoolingLoss membership", DType.I32, [membershipOnDevice]) != device)
            throw new ArgumentException($"MaskedPoolingLoss: {membershipOnDevice} is not on cuda:{device}");
        if (batch == 0) return;
        LoadedModule module = KernelCache.Load(KernelSources.Get("maskedpoolingloss"), device);
        Device on = dMask.Device;
        int rows = batch * classCount;
        using Tensor members = membershipOnDevice?.Contiguous() ?? DeviceConstants.Get<int>(membership, on);
        using Tensor pooled = Tensor.Empty([rows, width], DType.F32, on), probabilities = Tensor.Empty([rows, classCount], DType.F32, on);
        using Tensor losses = Tensor.Empty([rows], DType.F32, on), scales = Tensor.Empty([batch], DType.F32, on);
        using Tensor dLogits = Tensor.Empty([rows, classCount], DType.F32, on), dPooled = Tensor.Empty([rows, width], DType.F32, on);
        // pooled[b] [C, E] = (1/N)·mask[b]ᵀ·F[b];  logits [B·C, C] = logitScale·pooled·Tᵀ, into the probabilities.
        float mean = 1f / Math.Max(patches, 1);
        Cublas.GemmStridedBatched(device, transposeA: true, transposeB: false, classCount, width, patches, mean,
            DeviceTensors.Address(mask), classCount, (long)patches * classCount, DeviceTensors.Address(features), width, (long)patches * width,
            0, DeviceTensors.Address(pooled), width, (long)classCount * width, batch);
        Cublas.Gemm(device, transposeA: false, transposeB: true, rows, classCount, width, logitScale,
            DeviceTensors.Address(pooled), width, DeviceTensors.Address(text), width, 0, DeviceTensors.Address(probabilities), classCount);
        module.Kernel("pooling_batch_softmax_loss").Launch(LaunchShapes.WarpPerRow(rows), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(probabilities)).Pointer(DeviceTensors.Address(members)).Pointer(DeviceTensors.Address(losses))
            .Int(rows).Int(classCount));
        module.Kernel("pooling_batch_total").Launch(new LaunchShape(1, 1, 1, 1), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(losses)).Pointer(DeviceTensors.Address(members)).Int(batch).Int(classCount).Float(gradLoss)
            .Pointer(DeviceTensors.Address(scales)).Pointer(DeviceTensors.Address(total)));
        module.Kernel("pooling_batch_logit_gradient").Launch(LaunchShapes.Elementwise((long)rows * classCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(probabilities)).Pointer(DeviceTensors.Address(members)).Pointer(DeviceTensors.Address(scales))
            .Pointer(DeviceTensors.Address(dLogits)).Int(batch).Int(classCount));
        // dPooled [B·C, E] = logitScale·dz·T;  dMask[b] [N, C] = (1/N)·F[b]·dPooled[b]ᵀ.
        Cublas.Gemm(device, transposeA: false, transposeB: false, rows, width, classCount, logitScale,
            DeviceTensors.Address(dLogits), classCount, DeviceTensors.Address(text), width, 0, DeviceTensors.Address(dPooled), width);
        Cublas.GemmStridedBatched(device, transposeA: false, transposeB: true, patches, classCount, width, mean,
            DeviceTensors.Address(features), width, (long)patches * width, DeviceTensors.Address(dPooled), width, (long)classCount * width,
            0, DeviceTensors.Address(dMask), classCount, (long)patches * classCount, batch);
    }
}
