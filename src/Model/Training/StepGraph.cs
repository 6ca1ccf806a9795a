using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Training;

/// <summary>
/// ReCLIP++ training steps on a GPU replayed as one CUDA graph each: a step at batch 1 is hundreds of small launches,
/// which the host queues more slowly than the GPU runs them. The graph holds the image tower's dense encoding of the
/// batch and the head's forward and backward (<see cref="ReClipHead.LossAndGradients"/>); what changes from step to step
/// lives in device buffers it reads, rewritten before each replay: the images, the hypotheses' membership mask and the
/// Gumbel stream (the step number). It writes the loss, the gradients and the gradients' finiteness flags to buffers of
/// its own, the loss and the flags side by side so that one copy reads both; SGD runs after it, outside, once the caller
/// has checked them, as after an eager step.
/// <para>
/// A graph fits one batch shape and the float32 GEMM math of the steps that queued it (<see cref="Float32Gemms"/>), so
/// each shape and math gets buffers and a graph of its own (an epoch's short last batch is a second). The first step of a shape runs eagerly: it loads the kernels and fills the device caches, which a capture
/// must find done. The second is captured (on a non-blocking stream, so that nothing else's use of the legacy stream
/// breaks it), then replayed on the legacy stream, in order with everything else queued there. A capture that fails (a
/// copy to or from the host somewhere in the work, a driver without stream-ordered allocation) leaves every later step
/// eager, the reason in <see cref="Failure"/>.
/// </para>
/// </summary>
public sealed class StepGraph(ReClipHead head, VisionTransformer vision, ulong seed) : IDisposable
{
    private readonly Dictionary<(int Batch, int Height, int Width, GemmPrecision Gemms), Shaped> shapes = [];
    private CudaStream? captureStream;

    /// <summary>Why steps run without a graph (the capture's error), or null.</summary>
    public string? Failure { get; private set; }

    /// <summary>Whether the last <see cref="Run"/> replayed a graph.</summary>
    public bool Replayed { get; private set; }

    /// <summary>
    /// Whether the Reference prompt's text forward runs beside the image tower (<see cref="StreamFork"/>): at batch 1
    /// neither fills the GPU. The same kernels on the same data, so the same values as without.
    /// </summary>
    public bool OverlapTowers { get; init; }

    /// <summary>
    /// One step's loss and gradients (SGD not applied) for <paramref name="images"/> [B, 3, H, W] (on any device), with
    /// image b's hypothesis <paramref name="hypotheses"/>[b] and the Gumbel noise of (seed, <paramref name="step"/>), as
    /// <see cref="ReClipHead.LossAndGradients"/> computes them. The result shares the graph's buffers: dispose it before
    /// the next step of its shape.
    /// </summary>
    public StepResult Run(Tensor images, IReadOnlyList<int[]> hypotheses, ulong step)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (head.Device.IsCpu || head.Device != vision.Device)
            throw new InvalidOperationException($"StepGraph: the head ({head.Device}) and the image tower ({vision.Device}) must be on one GPU");
        if (images.Rank != 4 || images.Size(0) != hypotheses.Count || images.Size(1) != 3)
            throw new TensorShapeException($"StepGraph: images {Shape.Format(images.Shape)} are not [{hypotheses.Count}, 3, H, W]");
        int[] members = MaskedPoolingLoss.Membership(hypotheses, head.Classes);
        var key = (images.Size(0), images.Size(2), images.Size(3), Float32Gemms.Precision);
        if (!shapes.TryGetValue(key, out Shaped? shaped))
            shapes[key] = shaped = new Shaped(images.Shape, head, vision.Config.PatchSize);
        // Host inputs go through page-locked buffers, so their copies queue without waiting for the device.
        using (Tensor onHeadsDevice = images.Device.IsCpu ? images.Contiguous() : DeviceTransfer.Onto(images, head.Device))
        {
            if (onHeadsDevice.Device.IsCpu)
                shaped.ImagesStaging.Upload(onHeadsDevice, shaped.Images);
            else
                shaped.Images.CopyFrom(onHeadsDevice);
        }
        using (Tensor membership = Tensor.FromSpan<int>(members, shaped.Membership.Shape))
            shaped.MembershipStaging.Upload(membership, shaped.Membership);
        using (Tensor stream = GumbelSoftmax.StreamTensor(step, Device.Cpu))
            shaped.StreamStaging.Upload(stream, shaped.Stream);
        if (shaped.Graph is null && Failure is null && shaped.WarmedUp)
            Capture(shaped, hypotheses);
        Replayed = shaped.Graph is not null && TryLaunch(shaped);
        if (!Replayed)
        {
            Queue(shaped, hypotheses);
            shaped.WarmedUp = true;
        }
        (double total, bool[] nonFinite) = shaped.Readback.Read();
        return StepResult.Sharing(shaped.Result, (float)(total / hypotheses.Count), nonFinite);
    }

    /// <summary>The step's work, on the stream the runtime queues to (a capture's while capturing): nothing in it reads back.</summary>
    private void Queue(Shaped shaped, IReadOnlyList<int[]> hypotheses)
    {
        shaped.Readback.Total.Clear();
        StreamFork? fork = OverlapTowers ? StreamFork.Begin(head.Device) : null;
        ReferenceActivations? reference = null;
        try
        {
            reference = fork?.Run(head.Prompt.Forward);
            using DenseFeatures dense = vision.EncodeDense(shaped.Images);
            fork?.Join();
            head.RequireStep(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses, null, null);
            head.QueueLossAndGradients(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses, null, seed, 0, null, shaped.Result,
                shaped.Readback.Total, new StepOnDevice(shaped.Stream, shaped.Membership), reference);
        }
        finally
        {
            // Joined before the prompt's activations go: their memory must not be reused while the work beside still runs.
            try
            {
                fork?.Dispose();
            }
            finally
            {
                reference?.Dispose();
            }
        }
        shaped.Readback.QueueFlags(shaped.Result.Gradients);
    }

    /// <summary>Replays the shape's graph; a launch the driver refuses (its memory, say) leaves this and later steps eager.</summary>
    private bool TryLaunch(Shaped shaped)
    {
        try
        {
            shaped.Graph!.Launch(null);
            return true;
        }
        catch (CudaException e)
        {
            Failure = e.Message;
            shaped.Graph!.Dispose();
            shaped.Graph = null;
            return false;
        }
    }

    private void Capture(Shaped shaped, IReadOnlyList<int[]> hypotheses)
    {
        captureStream ??= CudaStream.CreateNonBlocking(head.Device.Index);
        try
        {
            shaped.Graph = CudaGraph.Capture(captureStream, () => Queue(shaped, hypotheses));
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException or NotSupportedException)
        {
            Failure = e.Message;
        }
    }

    public void Dispose()
    {
        foreach (Shaped shaped in shapes.Values)
            shaped.Dispose();
        shapes.Clear();
        captureStream?.Dispose();
    }

    /// <summary>What the graph of one batch shape reads and writes, allocated before its capture and kept while it lives, and the graph.</summary>
    private sealed class Shaped : IDisposable
    {
        public Shaped(ReadOnlySpan<int> imageShape, ReClipHead head, int patch)
        {
            int batch = imageShape[0];
            (int rows, int columns) = PatchEmbedding.Grid(imageShape[2], imageShape[3], patch);
            Device device = head.Device;
            try
            {
                Images = Tensor.Empty(imageShape, DType.F32, device);
                Membership = Tensor.Zeros([batch, head.Classes], DType.I32, device);
                Stream = Tensor.Zeros([2], DType.I32, device);
                Readback = new StepReadback(head.Parameters.Count, device);
                Result = new StepResult(batch, rows, columns, head.Classes, head.Parameters, device);
                ImagesStaging = new PinnedBuffer(device.Index, Images.ByteLength);
                MembershipStaging = new PinnedBuffer(device.Index, Membership.ByteLength);
                StreamStaging = new PinnedBuffer(device.Index, Stream.ByteLength);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Page-locked copies of the host inputs, from which they are queued onto the device.</summary>
        public PinnedBuffer ImagesStaging { get; }

        public PinnedBuffer MembershipStaging { get; }

        public PinnedBuffer StreamStaging { get; }

        public Tensor Images { get; }

        public Tensor Membership { get; }

        public Tensor Stream { get; }

        public StepReadback Readback { get; }

        public StepResult Result { get; }

        public CudaGraph? Graph { get; set; }

        /// <summary>Whether a step of this shape has run eagerly, so that a capture finds the kernels loaded and the caches filled.</summary>
        public bool WarmedUp { get; set; }

        /// <summary>Also of a part-made one, from its constructor.</summary>
        public void Dispose()
        {
            Graph?.Dispose();
            ImagesStaging?.Dispose();
            MembershipStaging?.Dispose();
            StreamStaging?.Dispose();
            Images?.Dispose();
            Membership?.Dispose();
            Stream?.Dispose();
            Readback?.Dispose();
            Result?.Dispose();
        }
    }
}
