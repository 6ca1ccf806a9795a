using System.Collections.Concurrent;
using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of attention (kernels/attention.cu): one fused kernel for the forward pass (kernels/attention64.cu's
/// register-tiled one where head dim is 64 and there is no prefix: every CLIP tower layer; kernels/attention64_bf16.cu's
/// on the tensor cores for <see cref="AttentionPrecision.BFloat16"/>), and for the backward
/// pass one over blocks of query rows (D, then dq) followed by one over blocks of key rows (dk, dv). All four public
/// forms map onto them: the plain form has no prefix; the prefix form's keys are its P prefix rows followed by each
/// class's own, and its backward runs the key kernel twice (the prefix rows, added to; the own rows, written).
/// </summary>
public static partial class Attention
{
    private const int CudaTile = 32, CudaThreads = 256, CudaMaxHeadDim = 64;
    private const int RegisterTileHeadDim = 64, RegisterTileRows = 64, RegisterTileThreads = 128;

    /// <summary>The suffix of kernels/attention64_bf16.cu's kernels built for four blocks per multiprocessor (three without).</summary>
    private const string FourBlocksSuffix = "_4";

    /// <summary>The suffix of its kernels built for blocks of up to <see cref="WideWarps"/> warps, a whole sequence of up to 256 queries in one.</summary>
    private const string WideSuffix = "_wide";

    /// <summary>Warps in a block of the wide builds at most (their launch bounds' 512 threads), 16 query rows each.</summary>
    private const int WideWarps = 16;

    private static readonly ConcurrentDictionary<int, CudaDeviceInfo> deviceInfo = new();

    /// <summary>One operand on the device: the address of its first element and its element strides (dense features).</summary>
    private readonly record struct DeviceRows(ulong Address, long BatchStride, long RowStride)
    {
        public static readonly DeviceRows None = new(0, 0, 0);

        public static DeviceRows Of(string op, Tensor tensor, int device, int batch, int tokens, int width, DType dtype = DType.F32)
        {
            if (tensor.Device.IsCpu || tensor.Device.Index != device)
                throw new ArgumentException($"{op}: {tensor} is not on cuda:{device} like the output");
            (long batchStride, long rowStride) = AttentionLayout.Strides(op, tensor, batch, tokens, width, dtype);
            return new DeviceRows(DeviceTensors.Address(tensor), batchStride, rowStride);
        }

        /// <summary>Keys and values (and their gradients) share one pair of strides in the kernels: they are column blocks of one buffer.</summary>
        public static void RequireSameStrides(string op, DeviceRows first, DeviceRows second, string what)
        {
            if (first.BatchStride != second.BatchStride || first.RowStride != second.RowStride)
                throw new ArgumentException($"{op}: the CUDA kernels take {what} with the same strides; got ({first.BatchStride}, {first.RowStride}) and ({second.BatchStride}, {second.RowStride})");
        }
    }

    /// <summary>
    /// The operands of one CUDA call: queries, the own keys/values (batch stride 0 when shared) and the optional prefix,
    /// all float32 or (for the bfloat16 kernel) all bfloat16, as <see cref="Inputs"/> says.
    /// </summary>
    private readonly record struct DeviceOperands(AttentionLayout Layout, int Device, DType Inputs, DeviceRows Q, DeviceRows K, DeviceRows V,
        DeviceRows PrefixK, DeviceRows PrefixV, int PrefixLength)
    {
        public static DeviceOperands Of(string op, AttentionLayout layout, Tensor output, Tensor q, Tensor k, Tensor v, Tensor? prefixK, Tensor? prefixV)
        {
            if (layout.HeadDim > CudaMaxHeadDim)
                throw new NoKernelException($"{op}: the CUDA kernel takes head dims up to {CudaMaxHeadDim}, not {layout.HeadDim}");
            // The output only says where to run; its element type is the launcher's to check.
            int device = output.Device.IsCpu ? throw new ArgumentException($"{op}: {output} is not a CUDA tensor") : output.Device.Index;
            int width = layout.Width;
            DType inputs = q.DType == DType.BF16 ? DType.BF16 : DType.F32;
            DeviceRows keys = DeviceRows.Of(op + " k", k, device, layout.KeyBatch, layout.KeyLength, width, inputs);
            DeviceRows values = DeviceRows.Of(op + " v", v, device, layout.KeyBatch, layout.KeyLength, width, inputs);
            DeviceRows.RequireSameStrides(op, keys, values, "k and v");
            if (layout.KeyBatch == 1)
            {
                keys = keys with { BatchStride = 0 };
                values = values with { BatchStride = 0 };
            }
            DeviceRows prefixKeys = DeviceRows.None, prefixValues = DeviceRows.None;
            int prefixLength = 0;
            if (prefixK is not null && prefixV is not null)
            {
                prefixLength = prefixK.Size(1);
                prefixKeys = DeviceRows.Of(op + " prefix k", prefixK, device, 1, prefixLength, width, inputs);
                prefixValues = DeviceRows.Of(op + " prefix v", prefixV, device, 1, prefixLength, width, inputs);
                DeviceRows.RequireSameStrides(op, prefixKeys, prefixValues, "the prefix's k and v");
            }
            return new DeviceOperands(layout, device, inputs, DeviceRows.Of(op + " q", q, device, layout.Batch, layout.QueryLength, width, inputs),
                keys, values, prefixKeys, prefixValues, prefixLength);
        }

        /// <summary>
        /// Whether kernels/attention64.cu and attention64_bf16.cu take these operands: head dim 64, no prefix, and rows
        /// they read as 16-byte vectors (16-byte aligned starts, strides in whole vectors: 4 float32 or 8 bfloat16
        /// elements; the column blocks of a packed qkv are).
        /// </summary>
        public bool FitsRegisterTiles => Layout.HeadDim == RegisterTileHeadDim && PrefixLength == 0 && VectorRows(Q) && VectorRows(K) && VectorRows(V);

        private bool VectorRows(DeviceRows rows)
        {
            int elements = 16 / Inputs.SizeOf();
            return rows.Address % 16 == 0 && rows.BatchStride % elements == 0 && rows.RowStride % elements == 0;
        }

        /// <summary>(query tiles, heads, batch): the grid of the forward and query-gradient kernels.</summary>
        public LaunchShape QueryGrid => new((uint)((Layout.QueryLength + CudaTile - 1) / CudaTile), (uint)Layout.Heads, (uint)Layout.Batch, CudaThreads);

        /// <summary>The arguments both kernels over query rows start with after their first: q, the key/value sequence.</summary>
        public KernelArguments Sequence(KernelArguments arguments) => arguments
            .Pointer(Q.Address).Long(Q.BatchStride).Long(Q.RowStride)
            .Pointer(K.Address).Pointer(V.Address).Long(K.BatchStride).Long(K.RowStride)
            .Pointer(PrefixK.Address).Pointer(PrefixV.Address).Long(PrefixK.RowStride).Int(PrefixLength);

        /// <summary>The sizes and mask every kernel ends with.</summary>
        public KernelArguments Sizes(KernelArguments arguments) => arguments
            .Int(Layout.QueryLength).Int(Layout.KeyLength).Int(Layout.Heads).Int(Layout.HeadDim)
            .Int(Layout.Causal ? 1 : 0).Int(Layout.QueryOffset).Float(Layout.Scale);
    }

    private static void ForwardCuda(DeviceOperands x, Tensor o, Tensor? logsumexp, AttentionPrecision precision)
    {
        bool bfloat16Output = DeviceTensors.RequireFloat32OrBFloat16("Attention", o, x.Device);
        if (logsumexp is not null && DeviceTensors.Require("Attention logsumexp", [logsumexp]) != x.Device)
            throw new ArgumentException($"Attention: {logsumexp} is not on cuda:{x.Device} like o");
        bool tensorCores = precision == AttentionPrecision.BFloat16;
        if (tensorCores)
            RequireTensorCoreKernel(x);
        else if (x.Inputs != DType.F32 || bfloat16Output)
            throw new ArgumentException($"Attention: bfloat16 q, k, v or o belong to {nameof(AttentionPrecision.BFloat16)} attention");
        if (x.FitsRegisterTiles)
        {
            AttentionLayout layout = x.Layout;
            var grid = new LaunchShape((uint)((layout.QueryLength + RegisterTileRows - 1) / RegisterTileRows), (uint)layout.Heads, (uint)layout.Batch, RegisterTileThreads);
            string name = !tensorCores ? "attention_forward64"
                : x.Inputs == DType.BF16 ? (bfloat16Output ? "attention_forward64_bf16_io" : "attention_forward64_bf16_in")
                : bfloat16Output ? "attention_forward64_bf16_out" : "attention_forward64_bf16";
            string source = tensorCores ? "attention64_bf16" : "attention64";
            KernelArguments arguments = new KernelArguments()
                .Pointer(x.Q.Address).Long(x.Q.BatchStride).Long(x.Q.RowStride)
                .Pointer(x.K.Address).Pointer(x.V.Address).Long(x.K.BatchStride).Long(x.K.RowStride)
                .Pointer(DeviceTensors.Address(o)).Pointer(DeviceTensors.AddressOrNull(logsumexp))
                .Int(layout.QueryLength).Int(layout.KeyLength).Int(layout.Heads).Int(layout.Causal ? 1 : 0).Int(layout.QueryOffset).Float(layout.Scale);
            LoadedModule module = KernelCache.Load(KernelSources.Get(source), x.Device);
            if (!tensorCores)
            {
                module.Kernel(name).Launch(grid, null, arguments);
                return;
            }
            // Built for three blocks of 64 queries per multiprocessor, for four, and for one wide block a sequence: the fastest
            // for this shape, timed at its first launch.
            LaunchVariants.Launch(x.Device, [(name, grid), (name + FourBlocksSuffix, grid), (name + WideSuffix, WideShape(layout.QueryLength, layout.Heads, layout.Batch))],
                (variant, shape) => module.Kernel(variant).Launch(shape, null, arguments));
            return;
        }
        CudaKernel kernel = KernelCache.Load(KernelSources.Get("attention"), x.Device).Kernel("attention_forward");
        kernel.Launch(x.QueryGrid, null, x.Sizes(x.Sequence(new KernelArguments())
            .Pointer(DeviceTensors.Address(o)).Pointer(DeviceTensors.AddressOrNull(logsumexp))));
    }

    /// <summary>
    /// The wide builds' grid: a sequence's tiles of 16 queries spread evenly over as few blocks of at most
    /// <see cref="WideWarps"/> warps as hold them (197 queries: one block of 13 warps; 442: two of 14).
    /// </summary>
    internal static LaunchShape WideShape(int queryLength, int heads, int batch)
    {
        int tiles = Math.Max((queryLength + 15) / 16, 1), blocks = (tiles + WideWarps - 1) / WideWarps, warps = (tiles + blocks - 1) / blocks;
        return new LaunchShape((uint)blocks, (uint)heads, (uint)batch, (uint)(32 * warps));
    }

    /// <summary>
    /// bfloat16 attention on a GPU is kernels/attention64_bf16.cu's: it takes what the float32 register-tile kernel
    /// takes (every CLIP tower layer) on a GPU with bfloat16 tensor cores, as the towers' bfloat16 linears need too.
    /// </summary>
    private static void RequireTensorCoreKernel(DeviceOperands x)
    {
        if (!x.FitsRegisterTiles)
            throw new NoKernelException($"Attention: the bfloat16 kernel takes head dim {RegisterTileHeadDim} without a prefix, rows starting on "
                + $"16-byte boundaries and strides of whole 16-byte vectors; got head dim {x.Layout.HeadDim}, prefix {x.PrefixLength}, "
                + $"q/k/v at byte offsets {x.Q.Address % 16}/{x.K.Address % 16}/{x.V.Address % 16} mod 16, row strides {x.Q.RowStride}/{x.K.RowStride}");
        CudaDeviceInfo info = deviceInfo.GetOrAdd(x.Device, CudaDriver.Describe);
        if (info.ComputeMajor < 8)
            throw new NoKernelException($"Attention: bfloat16 tensor cores need compute capability 8.0 or later; {info.Name} has {info.ComputeCapability}");
    }

    /// <summary>
    /// dq for every query row (D from the forward's <paramref name="output"/> when given), then dk, dv: of the prefix rows
    /// (added to, when there is a prefix) and of the own rows (written; summed over the query batches in one block when
    /// they are shared).
    /// </summary>
    private static void BackwardCuda(DeviceOperands x, Tensor dO, Tensor logsumexp, Tensor? output, Tensor dq, Tensor dk, Tensor dv,
        Tensor? dPrefixK, Tensor? dPrefixV)
    {
        const string op = "Attention.Backward";
        AttentionLayout layout = x.Layout;
        if (x.Inputs != DType.F32)
            throw new ArgumentException($"{op}: the backward pass takes float32 q, k and v");
        DeviceTensors.Require(op, [dO, logsumexp, .. DeviceTensors.Present(output)]);
        int width = layout.Width;
        DeviceRows queryGradient = DeviceRows.Of(op + " dq", dq, x.Device, layout.Batch, layout.QueryLength, width);
        DeviceRows keyGradient = DeviceRows.Of(op + " dk", dk, x.Device, layout.KeyBatch, layout.KeyLength, width);
        DeviceRows valueGradient = DeviceRows.Of(op + " dv", dv, x.Device, layout.KeyBatch, layout.KeyLength, width);
        DeviceRows.RequireSameStrides(op, keyGradient, valueGradient, "dk and dv");
        LoadedModule module = KernelCache.Load(KernelSources.Get("attention"), x.Device);
        using Tensor delta = Tensor.Empty([layout.Batch, layout.Heads, layout.QueryLength], DType.F32, dO.Device);
        module.Kernel("attention_backward_queries").Launch(x.QueryGrid, null, x.Sizes(x.Sequence(new KernelArguments().Pointer(DeviceTensors.Address(dO)))
            .Pointer(DeviceTensors.Address(logsumexp)).Pointer(DeviceTensors.AddressOrNull(output)).Pointer(DeviceTensors.Address(delta))
            .Pointer(queryGradient.Address).Long(queryGradient.BatchStride).Long(queryGradient.RowStride)));

        if (dPrefixK is not null && dPrefixV is not null)
        {
            DeviceRows prefixKeyGradient = DeviceRows.Of(op + " prefix dk", dPrefixK, x.Device, 1, x.PrefixLength, width);
            DeviceRows prefixValueGradient = DeviceRows.Of(op + " prefix dv", dPrefixV, x.Device, 1, x.PrefixLength, width);
            DeviceRows.RequireSameStrides(op, prefixKeyGradient, prefixValueGradient, "the prefix's dk and dv");
            LaunchKeys(module, x, dO, logsumexp, delta, x.PrefixK, x.PrefixV, start: 0, x.PrefixLength, shared: true, accumulate: true,
                prefixKeyGradient, prefixValueGradient.Address);
        }
        LaunchKeys(module, x, dO, logsumexp, delta, x.K, x.V, start: x.PrefixLength, layout.KeyLength, shared: layout.KeyBatch == 1, accumulate: false,
            keyGradient, valueGradient.Address);
    }

    /// <summary>
    /// The key kernel over one segment of the key sequence: grid z runs the batches for their own keys; a shared segment
    /// (the prompt's prefix, keys shared by the batch) is split among <see cref="SharedGroups"/> blocks per tile, whose
    /// sums attention_sum_groups adds in a fixed order.
    /// </summary>
    private static void LaunchKeys(LoadedModule module, DeviceOperands x, Tensor dO, Tensor logsumexp, Tensor delta, DeviceRows keys, DeviceRows values,
        int start, int length, bool shared, bool accumulate, DeviceRows keyGradient, ulong valueGradient)
    {
        AttentionLayout layout = x.Layout;
        int tiles = (length + CudaTile - 1) / CudaTile, width = layout.Width;
        int groups = shared ? SharedGroups(tiles, layout.Heads, layout.Batch) : 0;
        bool split = groups > 1;
        using Tensor? partialKeys = split ? Tensor.Empty([groups, length, width], DType.F32, dO.Device) : null;
        using Tensor? partialValues = split ? Tensor.Empty([groups, length, width], DType.F32, dO.Device) : null;
        // Split, each group writes its own contiguous [length, width] slot; else the kernel writes (or adds to) the gradients.
        (ulong keyOut, ulong valueOut, long outBatch, long outRow) = split
            ? (DeviceTensors.Address(partialKeys!), DeviceTensors.Address(partialValues!), (long)length * width, width)
            : (keyGradient.Address, valueGradient, shared ? 0 : keyGradient.BatchStride, keyGradient.RowStride);
        var grid = new LaunchShape((uint)tiles, (uint)layout.Heads, shared ? (uint)groups : (uint)layout.Batch, CudaThreads);
        module.Kernel("attention_backward_keys").Launch(grid, null, x.Sizes(new KernelArguments()
            .Pointer(DeviceTensors.Address(dO)).Pointer(x.Q.Address).Long(x.Q.BatchStride).Long(x.Q.RowStride)
            .Pointer(keys.Address).Pointer(values.Address).Long(shared ? 0 : keys.BatchStride).Long(keys.RowStride).Int(start).Int(length)
            .Pointer(DeviceTensors.Address(logsumexp)).Pointer(DeviceTensors.Address(delta))
            .Pointer(keyOut).Pointer(valueOut).Long(outBatch).Long(outRow)
            .Int(layout.Batch).Int(groups).Int(accumulate && !split ? 1 : 0).Int(x.PrefixLength)));
        if (!split)
            return;
        module.Kernel("attention_sum_groups").Launch(LaunchShape.Cover((long)length * width, 256), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(partialKeys!)).Pointer(DeviceTensors.Address(partialValues!)).Int(groups).Int(length).Int(width)
            .Pointer(keyGradient.Address).Pointer(valueGradient).Long(keyGradient.RowStride).Int(accumulate ? 1 : 0));
    }

    /// <summary>
    /// How many blocks share a shared segment's walk over the query batches: enough for about 256 blocks in all (a few
    /// per multiprocessor), at most one per batch and 32 (the partial sums' memory). A function of the shapes only,
    /// so the order of the sum, and the result, is the same on every run.
    /// </summary>
    private static int SharedGroups(int tiles, int heads, int batch) => Math.Max(1, Math.Min(Math.Min(256 / (tiles * heads), batch), 32));
}
