using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// GEMMs whose bias is added by cuBLASLt's epilogue as the product is stored, instead of by a second pass over the
/// output: on an H100 those passes were 5% of the image tower's time (four per block). Row-major operands, swapped
/// into cuBLAS's column-major order as <see cref="Cublas"/> does. Each shape's plan (descriptors, and the algorithm
/// the heuristic picks) is made once per process and kept; the shapes of a model are few.
/// <para>
/// With <see cref="Tuning"/> on, a plan asks the heuristic for up to <see cref="Candidates"/> algorithms and keeps the
/// one that runs fastest on the device (<see cref="GemmTuning"/>), timed the first time its shape runs outside a
/// captured graph; GEMMs without a bias come here too (<see cref="TryGemm"/>). The heuristic's first choice is a
/// prediction: at batch 1 the text tower's products of a few hundred rows take 10–20 µs each, where the grid a
/// kernel's tile and split of K make decides more than its arithmetic. A choice is kept on disk (<see cref="GemmChoiceFile"/>)
/// and later runs on the card take it without timing; the first run's depends on its timing, so its last bits may differ
/// from an untuned run's. Off, the choice is the heuristic's and every run is the same.
/// </para>
/// </summary>
public static unsafe class CublasLt
{
    /// <summary>Algorithms a tuned plan asks the heuristic for.</summary>
    public const int Candidates = 8;

    /// <summary>The variable that turns <see cref="Tuning"/> on for a process (1) or leaves it off (0 or unset).</summary>
    public const string TuningVariable = "RECLIP_TUNE_GEMMS";

    private sealed class Plan(nint description, nint a, nint b, nint d, ulong[][] candidates)
    {
        public nint Description { get; } = description;

        public nint A { get; } = a;

        public nint B { get; } = b;

        public nint D { get; } = d;

        /// <summary>The heuristic's algorithms, its first choice first.</summary>
        public ulong[][] Candidates { get; } = candidates;

        /// <summary>The algorithm the plan runs: the heuristic's first until a tuning picks another.</summary>
        public ulong[] Algorithm { get; set; } = candidates[0];

        public bool Tuned { get; set; }
    }

    /// <summary>A plan holds for one shape, precision, output type, epilogue and pointer alignment (the heuristic may pick by alignment).</summary>
    private readonly record struct Key(int Device, bool TransposeA, bool TransposeB, int M, int N, int K, int Lda, int Ldb, int Ldc,
        GemmPrecision Precision, bool BFloat16Output, bool Bias, int Alignment, bool Tuning);

    private static readonly Dictionary<Key, Plan?> plans = [];
    private static readonly Dictionary<int, nint> handles = [];
    private static readonly Lock gate = new();

    public static bool IsAvailable => NativeLibraries.CublasLt.IsLoaded;

    private static bool? tuning;

    /// <summary>
    /// Whether plans made from now on are tuned on the device. <see cref="TuningVariable"/> sets the start value, read at
    /// the first GEMM, so that a bad value fails the GEMMs with its reason and leaves the rest of the class working.
    /// </summary>
    public static bool Tuning
    {
        get => tuning ??= TuningRequested(Environment.GetEnvironmentVariable(TuningVariable));
        set => tuning = value;
    }

    /// <summary>The library's version (cublasLtGetVersion: major·10000 + minor·100 + patch); readable without a GPU.</summary>
    public static Version Version()
    {
        NativeLibraries.Require(NativeLibraries.CublasLt);
        long version = (long)CublasLtApi.cublasLtGetVersion();
        return new Version((int)(version / 10000), (int)(version / 100 % 100), (int)(version % 100));
    }

    /// <summary>What a <see cref="TuningVariable"/> value asks for; anything but 0, 1 or blank is refused rather than read as either.</summary>
    internal static bool TuningRequested(string? value) => value?.Trim() switch
    {
        null or "" or "0" => false,
        "1" => true,
        _ => throw new ArgumentException($"{TuningVariable}: expected 1 (tune) or 0 (do not), got '{value}'"),
    };

    /// <summary>
    /// Row-major C[m×n] = op(A)·op(B) + beta·C + bias, the bias [n] added to every row (operands as in
    /// <see cref="Cublas.Gemm"/>; C is read in place with <paramref name="beta"/> 1, e.g. a residual stream the product
    /// is added to). C is float32, or bfloat16 with <paramref name="bfloat16Output"/> (the sums still float32, rounded as
    /// they are stored); the bias has C's type, cuBLASLt's default. Returns false, having queued nothing, when cuBLASLt is
    /// missing or has no algorithm for the shape: the caller then computes it another way. Without
    /// <paramref name="precision"/>, float32 operands multiply as this thread's <see cref="Float32Gemms"/> says.
    /// </summary>
    public static bool TryGemmBias(int device, bool transposeA, bool transposeB, int m, int n, int k, ulong a, int lda, ulong b, int ldb,
        ulong c, int ldc, ulong bias, GemmPrecision? precision = null, float beta = 0, bool bfloat16Output = false) =>
        TryRun(new Key(device, transposeA, transposeB, m, n, k, lda, ldb, ldc, precision ?? Float32Gemms.Precision, bfloat16Output, Bias: true,
            Alignment(a | b | c | bias), Tuning),
            1, beta, a, b, c, bias);

    /// <summary>
    /// Row-major float32 C[m×n] = alpha·op(A)·op(B) + beta·C as <see cref="Cublas.Gemm"/> computes it, when <see cref="Tuning"/>
    /// is on (off, cuBLAS's own choice is the product's, and this returns false); false too where cuBLASLt cannot.
    /// </summary>
    public static bool TryGemm(int device, bool transposeA, bool transposeB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb,
        float beta, ulong c, int ldc, GemmPrecision? precision = null) =>
        Tuning && TryRun(new Key(device, transposeA, transposeB, m, n, k, lda, ldb, ldc, precision ?? Float32Gemms.Precision, BFloat16Output: false, Bias: false,
            Alignment(a | b | c), Tuning: true), alpha, beta, a, b, c, 0);

    private static bool TryRun(Key key, float alpha, float beta, ulong a, ulong b, ulong c, ulong bias)
    {
        if (!IsAvailable)
            return false;
        CudaDriver.MakeCurrent(key.Device);
        lock (gate)
        {
            if (!plans.TryGetValue(key, out Plan? plan))
                plans[key] = plan = MakePlan(key, bias);
            if (plan is null)
                return false;
            nint handle = Handle(key.Device);
            ulong workspace = GemmWorkspace.For(key.Device);
            if (key.Bias)
                SetAttribute(plan.Description, CublasLtApi.DescBiasPointer, bias);
            nint stream = CaptureStream.For(key.Device);
            if (key.Tuning && !plan.Tuned && !CaptureStream.Capturing(key.Device))
            {
                plan.Algorithm = plan.Candidates[Choice(key, plan.Candidates, () => GemmTuning.Fastest(key.Device, plan.Candidates, ScratchBytes(key),
                    (algorithm, output, on) => Matmul(handle, plan, algorithm, alpha, beta, a, b, output, workspace, on)))];
                plan.Tuned = true;
            }
            using KernelProfile.Bracket timed = KernelProfile.IsOpen
                ? KernelProfile.Time(key.Device, stream, $"cuBLASLt {key.Precision} {key.M}×{key.N}×{key.K}{(key.Bias ? " + bias" : "")}{(beta == 0 ? "" : " + C")}")
                : default;
            Cublas.Check(Matmul(handle, plan, plan.Algorithm, alpha, beta, a, b, c, workspace, stream), "cublasLtMatmul");
        }
        return true;
    }

    private static int Matmul(nint handle, Plan plan, ulong[] algorithm, float alpha, float beta, ulong a, ulong b, ulong c, ulong workspace, nint stream)
    {
        fixed (ulong* chosen = algorithm)
            return CublasLtApi.cublasLtMatmul(handle, plan.Description, &alpha, b, plan.A, a, plan.B, &beta, c, plan.D, c, plan.D,
                chosen, workspace, (nuint)GemmWorkspace.Bytes, stream);
    }

    /// <summary>
    /// The position of a tuned plan's algorithm among its candidates: the one kept for this card, library and problem
    /// (<see cref="GemmChoiceFile"/>), else <paramref name="time"/>'s, which is kept for the runs after.
    /// </summary>
    private static int Choice(Key key, ulong[][] candidates, Func<int> time)
    {
        string card = CudaDriver.Describe(key.Device).Name, library = Version().ToString();
        // Everything the heuristic's list depends on but the card and the library, and the list's length.
        string problem = FormattableString.Invariant(
            $"{(key.TransposeA ? "T" : "N")}{(key.TransposeB ? "T" : "N")} {key.M}×{key.N}×{key.K} ld {key.Lda} {key.Ldb} {key.Ldc} {key.Precision} ") +
            FormattableString.Invariant($"{(key.BFloat16Output ? "bf16" : "f32")} out{(key.Bias ? " + bias" : "")} align {key.Alignment} of {candidates.Length}");
        if (GemmChoiceFile.Default.Find(card, library, problem) is int kept && kept < candidates.Length)
            return kept;
        int chosen = time();
        GemmChoiceFile.Default.Keep(card, library, problem, chosen);
        return chosen;
    }

    /// <summary>The bytes C spans (row-major, m rows of ldc elements, the last n long): what a tuning's scratch output needs.</summary>
    private static long ScratchBytes(Key key) => ((long)(key.M - 1) * key.Ldc + key.N) * (key.BFloat16Output ? 2 : 4);

    /// <summary>The largest power of two up to 16 bytes that divides every address (cuBLASLt's vector widths).</summary>
    private static int Alignment(ulong addresses) => (int)Math.Min(16, addresses == 0 ? 16 : addresses & (~addresses + 1));

    private static Plan? MakePlan(Key key, ulong bias)
    {
        nint handle = Handle(key.Device);
        Cublas.Check(CublasLtApi.cublasLtMatmulDescCreate(out nint description, Cublas.ComputeType(key.Precision), CublasApi.DataFloat), "cublasLtMatmulDescCreate");
        SetAttribute(description, CublasLtApi.DescTransposeA, key.TransposeB ? CublasApi.OperationTranspose : CublasApi.OperationNone);
        SetAttribute(description, CublasLtApi.DescTransposeB, key.TransposeA ? CublasApi.OperationTranspose : CublasApi.OperationNone);
        if (key.Bias)
        {
            SetAttribute(description, CublasLtApi.DescEpilogue, CublasLtApi.EpilogueBias);
            SetAttribute(description, CublasLtApi.DescBiasPointer, bias);
        }
        int input = Cublas.InputType(key.Precision);
        // Column-major views of the row-major operands: B (stored n×k when transposed) is cuBLASLt's A, A is its B.
        nint a = Layout(input, key.TransposeB ? key.K : key.N, key.TransposeB ? key.N : key.K, key.Ldb);
        nint b = Layout(input, key.TransposeA ? key.M : key.K, key.TransposeA ? key.K : key.M, key.Lda);
        nint d = Layout(key.BFloat16Output ? CublasApi.DataBFloat16 : CublasApi.DataFloat, key.N, key.M, key.Ldc);
        Cublas.Check(CublasLtApi.cublasLtMatmulPreferenceCreate(out nint preference), "cublasLtMatmulPreferenceCreate");
        ulong workspace = GemmWorkspace.Bytes;
        CublasLtApi.HeuristicResult* results = stackalloc CublasLtApi.HeuristicResult[Candidates];
        int returned;
        try
        {
            Cublas.Check(CublasLtApi.cublasLtMatmulPreferenceSetAttribute(preference, CublasLtApi.PreferenceMaxWorkspaceBytes, &workspace, sizeof(ulong)),
                "cublasLtMatmulPreferenceSetAttribute");
            int status = CublasLtApi.cublasLtMatmulAlgoGetHeuristic(handle, description, a, b, d, d, preference, key.Tuning ? Candidates : 1, results, out returned);
            if (status != 0)
                returned = 0;
        }
        finally
        {
            CublasLtApi.cublasLtMatmulPreferenceDestroy(preference);
        }
        var candidates = new List<ulong[]>(returned);
        for (int i = 0; i < returned; i++)
            if (results[i].State == 0)
                candidates.Add([.. new ReadOnlySpan<ulong>(results[i].Algorithm, 8)]);
        if (candidates.Count == 0)
        {
            CublasLtApi.cublasLtMatrixLayoutDestroy(a);
            CublasLtApi.cublasLtMatrixLayoutDestroy(b);
            CublasLtApi.cublasLtMatrixLayoutDestroy(d);
            CublasLtApi.cublasLtMatmulDescDestroy(description);
            return null;
        }
        return new Plan(description, a, b, d, [.. candidates]);
    }

    private static nint Layout(int type, int rows, int columns, int leadingDimension)
    {
        Cublas.Check(CublasLtApi.cublasLtMatrixLayoutCreate(out nint layout, type, (ulong)rows, (ulong)columns, leadingDimension), "cublasLtMatrixLayoutCreate");
        return layout;
    }

    private static void SetAttribute(nint description, int attribute, int value) =>
        Cublas.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(description, attribute, &value, sizeof(int)), "cublasLtMatmulDescSetAttribute");

    private static void SetAttribute(nint description, int attribute, ulong pointer) =>
        Cublas.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(description, attribute, &pointer, sizeof(ulong)), "cublasLtMatmulDescSetAttribute");

    /// <summary>The handle of a device, made on first use and kept for the process (under the lock).</summary>
    private static nint Handle(int device)
    {
        if (handles.TryGetValue(device, out nint handle))
            return handle;
        CaptureStream.Refuse(device, "creating the cuBLASLt handle");
        Cublas.Check(CublasLtApi.cublasLtCreate(out handle), "cublasLtCreate");
        handles[device] = handle;
        return handle;
    }
}
