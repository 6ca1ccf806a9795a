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
/// Gumbel stream (the step number). It writes the loss and the gradients to buffers of its own; SGD runs after it, outside,
/// once the caller has checked them, as after an eager step.
/// <para>
/// A graph fits one batch size: another size (an epoch's short last batch) gets buffers and a graph of its own in place
/// of the first. The first step of a size runs eagerly: it loads the kernels and fills the device caches, which a capture
/// must find done. The second is captured, then replayed. A capture that fails (a copy to or from the host somewhere in
/// the work, a driver without stream-ordered allocation) leaves every later step eager, the reason in <see cref="Failure"/>.
/// </para>
/// </summary>
public sealed class StepGraph(ReClipHead head, VisionTransformer vision, ulong seed) : IDisposable
{
    private Buffers? buffers;
    private CudaGraph? graph;
    private CudaStream? stream;

    /// <summary>Why steps run without a graph (the capture's error), or null.</summary>
    public string? Failure { get; private set; }

    /// <summary>Whether the last <see cref="Run"/> replayed a graph.</summary>
    public bool Replayed { get; private set; }

    /// <summary>
    /// One step's loss and gradients (SGD not applied) for <paramref name="images"/> [B, 3, S, S] (on any device), with
    /// image b's hypothesis <paramref name="hypotheses"/>[b] and the Gumbel noise of (seed, <paramref name="step"/>), as
    /// <see cref="ReClipHead.LossAndGradients"/> computes them. The result shares the graph's buffers: dispose it before
    /// the next step.
    /// </summary>
    public StepResult Run(Tensor images, IReadOnlyList<int[]> hypotheses, ulong step)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (head.Device.IsCpu || head.Device != vision.Device)
            throw new InvalidOperationException($"StepGraph: the head ({head.Device}) and the image tower ({vision.Device}) must be on one GPU");
        if (images.Rank != 4 || images.Size(0) != hypotheses.Count)
            throw new TensorShapeException($"StepGraph: images {Shape.Format(images.Shape)} are not [{hypotheses.Count}, 3, S, S]");
        int[] members = MaskedPoolingLoss.Membership(hypotheses, head.Classes);
        if (buffers is null || !buffers.Fits(images.Shape))
            Renew(images.Shape);
        Buffers inputs = buffers!;
        using (Tensor onDevice = DeviceTransfer.Onto(images, head.Device))
            inputs.Images.CopyFrom(onDevice);
        using (Tensor membership = Tensor.FromSpan<int>(members, inputs.Membership.Shape), onDevice = membership.ToDevice(head.Device))
            inputs.Membership.CopyFrom(onDevice);
        using (Tensor stepNumber = GumbelSoftmax.StreamTensor(step, head.Device))
            inputs.Stream.CopyFrom(stepNumber);
        if (graph is null && Failure is null && inputs.WarmedUp)
            Capture(inputs, hypotheses);
        Replayed = graph is not null;
        if (graph is not null)
            graph.Launch(stream!);
        else
        {
            Queue(inputs, hypotheses);
            inputs.WarmedUp = true;
        }
        // The loss is read on the legacy stream, which waits for the replay's (a blocking stream).
        float loss = (float)(MaskedPoolingLoss.ReadTotal(inputs.Total) / hypotheses.Count);
        return StepResult.Sharing(inputs.Result, loss);
    }

    /// <summary>The step's work, on the stream the runtime queues to (a capture's while capturing): nothing in it reads back.</summary>
    private void Queue(Buffers inputs, IReadOnlyList<int[]> hypotheses)
    {
        inputs.Total.Clear();
        using DenseFeatures dense = vision.EncodeDense(inputs.Images);
        head.RequireStep(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses, null, null);
        head.QueueLossAndGradients(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses, null, seed, 0, null, inputs.Result,
            inputs.Total, new StepOnDevice(inputs.Stream, inputs.Membership));
    }

    private void Capture(Buffers inputs, IReadOnlyList<int[]> hypotheses)
    {
        stream ??= CudaStream.Create(head.Device.Index);
        try
        {
            graph = CudaGraph.Capture(stream, () => Queue(inputs, hypotheses));
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException or NotSupportedException)
        {
            Failure = e.Message;
        }
    }

    /// <summary>Buffers (and so a graph) for another batch shape, in place of the last ones.</summary>
    private void Renew(ReadOnlySpan<int> imageShape)
    {
        graph?.Dispose();
        graph = null;
        buffers?.Dispose();
        buffers = null;
        int batch = imageShape[0], patch = vision.Config.PatchSize;
        (int rows, int columns) = PatchEmbedding.Grid(imageShape[2], imageShape[3], patch);
        buffers = new Buffers(imageShape, batch, rows, columns, head);
    }

    public void Dispose()
    {
        graph?.Dispose();
        buffers?.Dispose();
        stream?.Dispose();
    }

    /// <summary>What a graph of one batch shape reads and writes, allocated before its capture and kept while it lives.</summary>
    private sealed class Buffers : IDisposable
    {
        private readonly int[] imageShape;

        public Buffers(ReadOnlySpan<int> imageShape, int batch, int rows, int columns, ReClipHead head)
        {
            this.imageShape = imageShape.ToArray();
            Device device = head.Device;
            Images = Tensor.Empty(imageShape, DType.F32, device);
            Membership = Tensor.Zeros([batch, head.Classes], DType.I32, device);
            Stream = Tensor.Zeros([2], DType.I32, device);
            Total = MaskedPoolingLoss.NewTotal(device);
            Result = new StepResult(batch, rows, columns, head.Classes, head.Parameters, device);
        }

        public Tensor Images { get; }

        public Tensor Membership { get; }

        public Tensor Stream { get; }

        public Tensor Total { get; }

        public StepResult Result { get; }

        /// <summary>Whether a step of this shape has run eagerly, so that a capture finds the kernels loaded and the caches filled.</summary>
        public bool WarmedUp { get; set; }

        public bool Fits(ReadOnlySpan<int> shape) => shape.SequenceEqual(imageShape);

        public void Dispose()
        {
            Images.Dispose();
            Membership.Dispose();
            Stream.Dispose();
            Total.Dispose();
            Result.Dispose();
        }
    }
}
