using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

/// <summary>One output of one op run on a device, compared with the plain reference.</summary>
public sealed record OpCheckResult(string Op, string Case, string Output, Agreement Agreement, Tolerance Tolerance, double Milliseconds)
{
    public bool Passed => Agreement.Passed;
}

/// <summary>
/// The self-check of one op: builds seeded random inputs for each of its cases (odd sizes included),
/// runs the plain reference on the CPU and the op's fast path on <c>device</c>, and compares every
/// output (and gradient). The test suite and `reclip selfcheck` both iterate <see cref="OpCatalog.All"/>.
/// </summary>
public interface IOpCheck
{
    /// <summary>The op class this check covers (one check per class in ReClip.Kernels.Ops).</summary>
    Type Op { get; }

    IReadOnlyList<string> Cases { get; }

    IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed);
}
