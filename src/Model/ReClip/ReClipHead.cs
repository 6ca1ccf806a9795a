using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// The trainable ReCLIP++ head on top of the frozen CLIP (spec §13), and one training step of it: with dense
/// features F [B, N, E] (unit rows) and the positional grid [N, Dv] of the batch,
///   Q = F·Tᵀ [B, N, C] (T: the Query bank, §4.5);  R = Reference prompt, Frobenius-normalised [C, E] (§2.2);
///   P = pe_proj(grid) [N, E] (§5);  Rect = Q − P·Rᵀ (§6.1);  O = BN(conv5×5([F ; Rect])) [B, C, h, w] (§6.2–4);
///   mask = hard Gumbel-softmax(100·O, τ = 1) over classes, straight-through (§6.5);
///   loss = Σ_j L_j / B with L_j the masked-pooling cross-entropy of image j over its hypotheses, logit scale 100 (§7);
/// then backward to every trainable tensor and PyTorch's SGD (momentum 0.9, weight decay 5e-4, §9). <see cref="BiasForm"/>
/// selects the paper's ablations, which subtract one of the two biases alone, or none.
/// An image with an empty hypothesis adds 0 and counts in B; nothing is skipped here (the training loop's rule
/// of skipping a batch whose first image has no hypothesis, §9, belongs to the loop).
/// </summary>
public sealed class ReClipHead : IDisposable
{
    private readonly SgdState[] optimizer;
    private float[]? exchange;

    /// <param name="text">The frozen text tower (not owned).</param>
    /// <param name="query">T [C, E], unit rows (see <see cref="QueryBank"/>); copied.</param>
    /// <param name="slotIds">C·3 slot ids of the Reference prompt (<see cref="ReferencePrompt.SlotIds(IReadOnlyList{int[]}, int)"/>).</param>
    /// <param name="visionWidth">Dv, the width of the positional grid.</param>
    /// <param name="seed">Seed of pe_proj's and decoder_conv2's initial values (<see cref="ParameterInit"/>).</param>
    public ReClipHead(TextTransformer text, Tensor query, ReadOnlySpan<int> slotIds, int visionWidth, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(visionWidth);
        int embed = text.Config.EmbedDim;
        // Checked before anything is allocated, so a refused head leaks nothing; ReferencePrompt checks the ids.
        if (slotIds.Length % ReferencePrompt.SlotCount == 0)
            Shape.Require("ReClipHead query bank", [slotIds.Length / ReferencePrompt.SlotCount, embed], query.Shape);
        Prompt = new ReferencePrompt(text, slotIds);
        // A head is built on the CPU, its Query bank with it, wherever the bank came from (ToDevice moves it all).
        Query = query.ToDevice(Device.Cpu);
        Extractor = new BiasExtractor(visionWidth, embed, seed);
        Decoder = new MaskDecoder(embed, Prompt.Classes, seed);
        Parameters = Named(Prompt, Extractor, Decoder);
        optimizer = [.. Parameters.Select(_ => new SgdState())];
        LogitScale = text.ContrastiveScale;
    }

    private ReClipHead(ReferencePrompt prompt, Tensor query, BiasExtractor extractor, MaskDecoder decoder, SgdState[] optimizer)
    {
        Prompt = prompt;
        Query = query;
        Extractor = extractor;
        Decoder = decoder;
        Parameters = Named(Prompt, Extractor, Decoder);
        this.optimizer = optimizer;
    }

    /// <summary>The trainable tensors by checkpoint name, in the order of the gradients.</summary>
    private static (string Name, Tensor Value)[] Named(ReferencePrompt prompt, BiasExtractor extractor, MaskDecoder decoder) =>
    [
        ("text_encoder.prompt_token", prompt.Context), ("pe_proj.weight", extractor.Weight), ("pe_proj.bias", extractor.Bias),
        ("decoder_conv2.weight", decoder.ConvWeight), ("decoder_conv2.bias", decoder.ConvBias),
        ("decoder_norm2.weight", decoder.Gamma), ("decoder_norm2.bias", decoder.Beta),
    ];

    public ReferencePrompt Prompt { get; }

    public BiasExtractor Extractor { get; }

    public MaskDecoder Decoder { get; }

    /// <summary>T [C, E].</summary>
    public Tensor Query { get; }

    /// <summary>
    /// Where the head's tensors live and it computes (the CPU as constructed; see <see cref="ToDevice"/>). Its inputs may
    /// come from anywhere: a step's results stay here, and <see cref="Infer"/> hands its logits back where the features were.
    /// </summary>
    public Device Device => Query.Device;

    public int Classes => Prompt.Classes;

    /// <summary>The trainable tensors by checkpoint name (without DDP's <c>module.</c>), in the order of <see cref="StepResult.Gradients"/>.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> Parameters { get; }

    /// <summary>The Gumbel logit factor (100) and temperature (1) of spec §6.5.</summary>
    public float GumbelScale { get; init; } = GumbelSoftmax.DefaultScale;

    public float GumbelTau { get; init; } = GumbelSoftmax.DefaultTau;

    /// <summary>
    /// False replaces the hard straight-through mask by y_soft itself (same gradient formula). Only for checking
    /// gradients by finite differences: the hard mask is piecewise constant in the parameters.
    /// </summary>
    public bool HardMask { get; init; } = true;

    /// <summary>Which bias the head subtracts (<see cref="ReClip.BiasForm"/>): both, the method, unless an ablation asks for one alone or none.</summary>
    public BiasForm BiasForm { get; init; }

    /// <summary>
    /// The loss's factor on the pooled features' dot products: exp of the CLIP's own logit scale, as the authors' code
    /// reads it from the model (spec §4.6, §7). It is 100 for ViT-B/16, but not for every CLIP: the bundled tiny CLIP
    /// learnt about 15, and with 100 there the loss's optimum lies below MaskCLIP's segmentation (docs/DEMO.md).
    /// </summary>
    public float LogitScale { get; init; }

    /// <summary>Trainable values of a head at a model's sizes: M·Dt + (E·Dv + E) + (C·(E + C)·25 + C) + 2C (spec §9; VOC 697,164).</summary>
    public static long ParameterCount(ClipConfig config, int classes)
    {
        ArgumentNullException.ThrowIfNull(config);
        return ReferencePrompt.ParameterCount(config) + BiasExtractor.ParameterCount(config.VisionWidth, config.EmbedDim)
            + MaskDecoder.ParameterCount(config.EmbedDim, classes);
    }

    /// <summary>
    /// A copy of this head on <paramref name="device"/>: its trainable tensors, Query bank, BatchNorm statistics and SGD
    /// momentum, with the same Gumbel and loss settings, so that training on it continues this head's run. The text
    /// tower is shared, not copied: it computes where its weights are.
    /// </summary>
    public ReClipHead ToDevice(Device device)
    {
        var parts = new List<IDisposable>(4 + optimizer.Length);
        try
        {
            ReferencePrompt prompt = Prompt.ToDevice(device);
            parts.Add(prompt);
            Tensor query = Query.ToDevice(device);
            parts.Add(query);
            BiasExtractor extractor = Extractor.ToDevice(device);
            parts.Add(extractor);
            MaskDecoder decoder = Decoder.ToDevice(device);
            parts.Add(decoder);
            var states = new SgdState[optimizer.Length];
            for (int i = 0; i < states.Length; i++)
                parts.Add(states[i] = optimizer[i].ToDevice(device));
            return new ReClipHead(prompt, query, extractor, decoder, states)
            {
                GumbelScale = GumbelScale, GumbelTau = GumbelTau, HardMask = HardMask, LogitScale = LogitScale, BiasForm = BiasForm,
            };
        }
        catch
        {
            foreach (IDisposable part in parts) part.Dispose();
            throw;
        }
    }

    /// <summary>This head when it is on <paramref name="device"/> already, else its copy there (<see cref="ToDevice"/>) and this head disposed.</summary>
    public ReClipHead MoveTo(Device device)
    {
        if (device == Device)
            return this;
        try
        {
            return ToDevice(device);
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>SGD's momentum state of each trainable tensor, in <see cref="Parameters"/> order (saved with a checkpoint for resuming).</summary>
    public IReadOnlyList<SgdState> OptimizerStates => optimizer;

    /// <summary>The element count of <see cref="Parameters"/>.</summary>
    public long TrainableParameterCount => Parameters.Sum(p => p.Value.ElementCount);

    /// <summary>
    /// One training step: <see cref="LossAndGradients"/> with the noise of (seed, stream = step), then SGD with <paramref name="lr"/>.
    /// </summary>
    public StepResult Step(Tensor features, Tensor grid, int rows, int columns, IReadOnlyList<int[]> hypotheses, float lr, ulong seed, ulong step)
    {
        StepResult result = LossAndGradients(features, grid, rows, columns, hypotheses, null, seed, step);
        Update(result, lr);
        return result;
    }

    /// <summary>One training step with explicit Gumbel noise [B, N, C] (parity with PyTorch, whose generator we cannot reproduce).</summary>
    public StepResult Step(Tensor features, Tensor grid, int rows, int columns, IReadOnlyList<int[]> hypotheses, float lr, Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        StepResult result = LossAndGradients(features, grid, rows, columns, hypotheses, noise, 0, 0);
        Update(result, lr);
        return result;
    }

    /// <summary>SGD on every trainable tensor with the gradients of <paramref name="result"/>.</summary>
    public void Update(StepResult result, float lr)
    {
        ArgumentNullException.ThrowIfNull(result);
        for (int i = 0; i < Parameters.Count; i++)
            Sgd.Step(Parameters[i].Value, result.Gradients[i], optimizer[i], lr);
    }

    /// <summary>
    /// Forward and backward of the training loss (BatchNorm in training mode, so its running statistics move),
    /// without updating the trainable tensors. Noise: <paramref name="noise"/> [B, N, C] when given, else
    /// <see cref="GumbelSoftmax.Noise"/> with key <paramref name="seed"/>, stream <paramref name="step"/> and the flat
    /// element index (b·N + n)·C + c, so a step's noise depends on nothing but (seed, step).
    /// With <paramref name="share"/>, the batch is this rank's part of a data-parallel step: BatchNorm uses the whole
    /// batch's statistics, the loss and its gradient are divided by the whole batch's size, b counts from the rank's
    /// first image in the whole batch, and the gradients are this rank's part (<see cref="SumOverRanks"/> adds them up).
    /// </summary>
    public StepResult LossAndGradients(Tensor features, Tensor grid, int rows, int columns, IReadOnlyList<int[]> hypotheses, Tensor? noise, ulong seed, ulong step,
        BatchShare? share = null)
    {
        int batch = RequireStep(features, grid, rows, columns, hypotheses, noise, share);
        var result = new StepResult(batch, rows, columns, Classes, Parameters, Device);
        try
        {
            using var readback = new StepReadback(Parameters.Count, Device);
            QueueLossAndGradients(features, grid, rows, columns, hypotheses, noise, seed, step, share, result, readback.Total, StepOnDevice.None);
            // A rank's own flags would miss the other ranks' gradients, which SumOverRanks adds later: its caller checks the sum.
            if (share is null)
                readback.QueueFlags(result.Gradients);
            // Read last: on a GPU this waits for the device, which by now has the whole backward queued.
            (double total, bool[] nonFinite) = readback.Read();
            result.Loss = (float)(total / (share?.GlobalBatch ?? batch));
            if (share is null)
                result.NonFiniteGradients = nonFinite;
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Checks a step's inputs as <see cref="LossAndGradients"/> takes them; returns the batch size.</summary>
    internal int RequireStep(Tensor features, Tensor grid, int rows, int columns, IReadOnlyList<int[]> hypotheses, Tensor? noise, BatchShare? share)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        RequireInputs(features, grid, rows, columns);
        if (share is not null)
            RequireHostForRanks();
        int patches = rows * columns, batch = features.Size(0);
        if (hypotheses.Count != batch)
            throw new ArgumentException($"ReClipHead: {hypotheses.Count} hypothesis lists for a batch of {batch} images", nameof(hypotheses));
        if (noise is not null)
            Shape.Require("ReClipHead Gumbel noise", [batch, patches, Classes], noise.Shape);
        if (share is not null && share.FirstImage + batch > share.GlobalBatch)
            throw new ArgumentException($"ReClipHead: images {share.FirstImage}..{share.FirstImage + batch - 1} lie outside the step's batch of {share.GlobalBatch}", nameof(share));
        return batch;
    }

    /// <summary>
    /// Queues <see cref="LossAndGradients"/>'s work (inputs checked by <see cref="RequireStep"/>) into <paramref name="result"/>,
    /// its tensors overwritten, and adds the summed image losses to <paramref name="total"/> (a double, see
    /// <see cref="MaskedPoolingLoss.NewTotal"/>), reading nothing back: the work a CUDA graph can record.
    /// <paramref name="onDevice"/> holds what such a graph must read from device memory to change between replays.
    /// <paramref name="reference"/> is the Reference prompt's forward (<see cref="ReferencePrompt.Forward"/>, not owned)
    /// when the caller ran it already, beside the image tower say; else it runs here.
    /// </summary>
    internal void QueueLossAndGradients(Tensor features, Tensor grid, int rows, int columns, IReadOnlyList<int[]> hypotheses, Tensor? noise, ulong seed,
        ulong step, BatchShare? share, StepResult result, Tensor total, StepOnDevice onDevice, ReferenceActivations? reference = null)
    {
        int classes = Classes, patches = rows * columns, batch = features.Size(0);
        int wholeBatch = share?.GlobalBatch ?? batch;
        ICollective? group = share?.Group;
        Device device = Device;
        using Tensor featuresHere = DeviceTransfer.Onto(features, device), gridHere = DeviceTransfer.Onto(grid, device);
        using Tensor? noiseHere = noise is null ? null : DeviceTransfer.Onto(noise, device);
        using Tensor q = QueryLogits(featuresHere);
        using ReferenceActivations? ownReference = reference is null ? Prompt.Forward() : null;
        reference ??= ownReference!;
        // The ablations average the constant grid (P is affine in it) or R (whose gradient is then averaged alike).
        using Tensor? averagedGrid = AveragedFor(BiasForm.ClassOnly, gridHere), averagedReference = AveragedFor(BiasForm.SpaceOnly, reference.Reference);
        Tensor biasGrid = averagedGrid ?? gridHere, r = averagedReference ?? reference.Reference;
        using Tensor p = Extractor.Forward(biasGrid);
        Rectified(q, p, r, result.Rectified);
        using DecoderActivations decoded = Decoder.Forward(featuresHere, result.Rectified, rows, columns, training: true, group);
        result.Output.CopyFrom(decoded.Output);

        // O [B, C, N] → logits [B, N, C] (classes last for the Gumbel-softmax and the loss).
        using Tensor logits = Tensor.Empty([batch, patches, classes], DType.F32, device);
        using (Tensor planes = decoded.Output.Reshape(batch, classes, patches))
            PlaneTranspose.Forward(planes, logits);
        using Tensor ySoft = Tensor.Empty(logits.Shape, DType.F32, device);
        if (noiseHere is not null)
            GumbelSoftmax.Forward(logits, noiseHere, result.Mask, ySoft, GumbelScale, GumbelTau);
        else
            GumbelSoftmax.Forward(logits, seed, step, result.Mask, ySoft, GumbelScale, GumbelTau,
                firstIndex: (ulong)(share?.FirstImage ?? 0) * (ulong)(patches * classes), streamAt: onDevice.Stream);
        if (!HardMask)
            result.Mask.CopyFrom(ySoft);

        // Loss: Σ_j L_j / B; backward with ∂loss/∂L_j = 1/B (B of the whole data-parallel batch).
        using Tensor dMask = Tensor.Empty(logits.Shape, DType.F32, device);
        MaskedPoolingLoss.ForwardBackward(featuresHere, result.Mask, hypotheses, Query, total, dMask, 1f / wholeBatch, LogitScale, onDevice.Membership);

        using Tensor dLogits = Tensor.Empty(logits.Shape, DType.F32, device);
        GumbelSoftmax.Backward(dMask, ySoft, dLogits, GumbelScale, GumbelTau);
        using Tensor dOutput = Tensor.Empty(decoded.Output.Shape, DType.F32, device);
        using (Tensor planes = dOutput.Reshape(batch, classes, patches))
            PlaneTranspose.Forward(dLogits, planes);
        using Tensor dRect = Decoder.Backward(decoded, dOutput, result.Gradients[3], result.Gradients[4], result.Gradients[5], result.Gradients[6], group);
        using Tensor dP = Tensor.Empty(p.Shape, DType.F32, device);
        using Tensor dR = Tensor.Empty(reference.Reference.Shape, DType.F32, device);
        // Without a bias, pe_proj's gradient is 0 (and the prompt's, below).
        if (BiasForm == BiasForm.None)
            dP.Clear();
        else
            Rectify.Backward(dRect, p, r, dP, dR);
        Extractor.Backward(biasGrid, dP, result.Gradients[1], result.Gradients[2]);
        // The average over the classes is its own adjoint (RowMean).
        if (averagedReference is not null)
            RowMean.Forward(dR, dR);
        // Without a bias the prompt has no part in the loss: its gradient is 0, without the text tower's backward.
        if (BiasForm == BiasForm.None)
        {
            result.Gradients[0].Clear();
            return;
        }
        using Tensor dContext = Prompt.Backward(reference, dR);
        result.Gradients[0].CopyFrom(dContext);
    }

    /// <summary>
    /// The step of a rank that holds no image of a data-parallel batch (the last batch of an epoch can be shorter than
    /// the ranks' parts): it takes part in BatchNorm's exchanges with nothing to add, so its running statistics move
    /// with the others', and its parts of the loss and of every gradient are 0.
    /// </summary>
    public StepResult IdleStep(int rows, int columns, BatchShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        RequireHostForRanks();
        var result = new StepResult(0, rows, columns, Classes, Parameters, Device);
        try
        {
            foreach (Tensor gradient in result.Gradients)
                gradient.Clear();
            Decoder.SynchronizeWithoutImages(rows, columns, share.Group, result.Gradients[5], result.Gradients[6]);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds up the ranks' parts of the loss and of every gradient (one all-reduce), so that every rank holds the
    /// whole batch's and takes the same SGD step.
    /// </summary>
    public void SumOverRanks(StepResult result, ICollective group)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(group);
        RequireHostForRanks();
        int length = 1;
        foreach (Tensor gradient in result.Gradients) length += checked((int)gradient.ElementCount);
        if (exchange?.Length != length) exchange = new float[length];
        Span<float> buffer = exchange;
        int at = 0;
        foreach (Tensor gradient in result.Gradients)
        {
            gradient.AsSpan<float>().CopyTo(buffer[at..]);
            at += (int)gradient.ElementCount;
        }
        buffer[at] = result.Loss;
        group.AllReduceSum(buffer);
        at = 0;
        foreach (Tensor gradient in result.Gradients)
        {
            buffer.Slice(at, (int)gradient.ElementCount).CopyTo(gradient.AsSpan<float>());
            at += (int)gradient.ElementCount;
        }
        result.Loss = buffer[at];
    }

    /// <summary>
    /// The reference text features R [C, E] (Frobenius-normalised, spec §2.2). They depend on the context vectors
    /// only, so an evaluation computes them once and passes them to every <see cref="Infer"/>.
    /// </summary>
    public Tensor Reference()
    {
        using ReferenceActivations reference = Prompt.Forward();
        return reference.Reference.Clone();
    }

    /// <summary>
    /// Inference (spec §10 step 2): O [B, C, h, w] = BN_eval(conv5×5([F ; Q − P·Rᵀ])), with BatchNorm's running
    /// statistics and no Gumbel sampling. <paramref name="reference"/> is <see cref="Reference"/>'s value. The head
    /// computes on its device and hands O back to the device of <paramref name="features"/>.
    /// </summary>
    public Tensor Infer(Tensor features, Tensor grid, int rows, int columns, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        RequireInputs(features, grid, rows, columns);
        Shape.Require("ReClipHead reference features", Query.Shape, reference.Shape);
        Device device = Device;
        using Tensor onDevice = DeviceTransfer.Onto(features, device), gridOnDevice = DeviceTransfer.Onto(grid, device);
        using Tensor referenceOnDevice = DeviceTransfer.Onto(reference, device);
        using Tensor q = QueryLogits(onDevice);
        using Tensor? averagedGrid = AveragedFor(BiasForm.ClassOnly, gridOnDevice), averagedReference = AveragedFor(BiasForm.SpaceOnly, referenceOnDevice);
        using Tensor p = Extractor.Forward(averagedGrid ?? gridOnDevice);
        using Tensor rectified = Tensor.Empty(q.Shape, DType.F32, device);
        Rectified(q, p, averagedReference ?? referenceOnDevice, rectified);
        using DecoderActivations decoded = Decoder.Forward(onDevice, rectified, rows, columns, training: false);
        // A reference of its own where the features already are, a copy where they are not.
        return features.Device == device ? decoded.Output.Contiguous() : decoded.Output.ToDevice(features.Device);
    }

    /// <summary>The MaskCLIP logits Q [B, N, C] = F [B, N, E] · Tᵀ (spec §4.5), from features on the head's device.</summary>
    public Tensor QueryLogits(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        int batch = features.Size(0), patches = features.Size(1), embed = Query.Size(1);
        Tensor q = Tensor.Empty([batch, patches, Classes], DType.F32, Device);
        try
        {
            using Tensor flatF = features.Reshape(batch * patches, embed);
            using Tensor flatQ = q.Reshape(batch * patches, Classes);
            MatMul.Multiply(flatF, Query, flatQ, transposeB: true);
            return q;
        }
        catch
        {
            q.Dispose();
            throw;
        }
    }

    /// <summary>Rect = Q − P·Rᵀ (spec §6.1), or Q itself when the head subtracts no bias.</summary>
    private void Rectified(Tensor q, Tensor p, Tensor r, Tensor rectified)
    {
        if (BiasForm == BiasForm.None)
            rectified.CopyFrom(q);
        else
            Rectify.Forward(q, p, r, rectified);
    }

    /// <summary>Every row of <paramref name="x"/> replaced by the rows' mean when this head's form is <paramref name="form"/>, else null.</summary>
    private Tensor? AveragedFor(BiasForm form, Tensor x)
    {
        if (BiasForm != form)
            return null;
        Tensor averaged = Tensor.Empty(x.Shape, DType.F32, x.Device);
        try
        {
            RowMean.Forward(x, averaged);
            return averaged;
        }
        catch
        {
            averaged.Dispose();
            throw;
        }
    }

    private void RequireHostForRanks()
    {
        if (!Device.IsCpu)
            throw new InvalidOperationException($"ReClipHead: a data-parallel step exchanges its statistics and gradients in host memory; this head is on {Device}");
    }

    private void RequireInputs(Tensor features, Tensor grid, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(grid);
        int embed = Query.Size(1), patches = rows * columns;
        if (features.Rank != 3 || features.Size(1) != patches || features.Size(2) != embed || rows <= 0 || columns <= 0)
            throw new TensorShapeException($"ReClipHead: features {Shape.Format(features.Shape)} are not [B, {rows}·{columns}, {embed}]");
        Shape.Require("ReClipHead positional grid", [patches, Extractor.VisionWidth], grid.Shape);
        if (features.Size(0) == 0)
            throw new TensorShapeException("ReClipHead: an empty batch");
    }

    public void Dispose()
    {
        Prompt.Dispose();
        Extractor.Dispose();
        Decoder.Dispose();
        Query.Dispose();
        foreach (SgdState state in optimizer) state.Dispose();
    }
}

/// <summary>
/// What one step computed: the loss, the rectified logits [B, N, C], the decoder output O [B, C, h, w], the mask
/// [B, N, C] and one gradient per trainable tensor (in <see cref="ReClipHead.Parameters"/> order).
/// </summary>
public sealed class StepResult : IDisposable
{
    internal StepResult(int batch, int rows, int columns, int classes, IReadOnlyList<(string Name, Tensor Value)> parameters, Device device)
    {
        var made = new List<Tensor>();
        Tensor Make(ReadOnlySpan<int> shape)
        {
            Tensor tensor = Tensor.Empty(shape, DType.F32, device);
            made.Add(tensor);
            return tensor;
        }
        try
        {
            Rectified = Make([batch, rows * columns, classes]);
            Output = Make([batch, classes, rows, columns]);
            Mask = Make([batch, rows * columns, classes]);
            Gradients = [.. parameters.Select(p => Make(p.Value.Shape))];
        }
        catch
        {
            // Out of memory part of the way (on a GPU): what was made goes back.
            foreach (Tensor tensor in made) tensor.Dispose();
            throw;
        }
    }

    private StepResult(Tensor rectified, Tensor output, Tensor mask, IReadOnlyList<Tensor> gradients)
    {
        Rectified = rectified;
        Output = output;
        Mask = mask;
        Gradients = gradients;
    }

    /// <summary>
    /// Another set of references to <paramref name="source"/>'s tensors, with <paramref name="loss"/> and the gradients'
    /// <paramref name="nonFinite"/> flags: disposing it leaves the source's.
    /// </summary>
    internal static StepResult Sharing(StepResult source, float loss, bool[] nonFinite) =>
        new(source.Rectified.Contiguous(), source.Output.Contiguous(), source.Mask.Contiguous(), [.. source.Gradients.Select(g => g.Contiguous())])
        {
            Loss = loss,
            NonFiniteGradients = nonFinite,
        };

    public float Loss { get; internal set; }

    /// <summary>
    /// Which gradients hold a NaN or an infinity, read with the loss; null for a data-parallel rank's part, whose sum
    /// over the ranks is checked after <see cref="ReClipHead.SumOverRanks"/>.
    /// </summary>
    public IReadOnlyList<bool>? NonFiniteGradients { get; internal set; }

    public Tensor Rectified { get; }

    /// <summary>O [B, C, h, w], the segmentation logits.</summary>
    public Tensor Output { get; }

    public Tensor Mask { get; }

    public IReadOnlyList<Tensor> Gradients { get; }

    public void Dispose()
    {
        Rectified.Dispose();
        Output.Dispose();
        Mask.Dispose();
        foreach (Tensor g in Gradients) g.Dispose();
    }
}
