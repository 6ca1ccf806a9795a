namespace ReClip.Runtime.Collectives;

/// <summary>
/// The communication of data-parallel training among <see cref="WorldSize"/> ranks: every rank calls the same
/// operations in the same order with buffers of the same length (a rank that calls another sequence blocks the rest).
/// Every rank ends an all-reduce with the same values, bit for bit, whatever the transport.
/// </summary>
public interface ICollective : IDisposable
{
    /// <summary>This rank, 0..WorldSize−1; rank 0 writes what the run writes.</summary>
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>values ← the element-wise sum of every rank's values.</summary>
    void AllReduceSum(Span<float> values);

    /// <summary>values ← the element-wise sum of every rank's values (statistics that need more than float's precision).</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>values ← the values of rank <paramref name="root"/>.</summary>
    void Broadcast(Span<float> values, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
