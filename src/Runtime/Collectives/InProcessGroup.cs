using System.Numerics;

namespace ReClip.Runtime.Collectives;

/// <summary>
/// Data-parallel ranks as threads of one process, exchanging through shared buffers. An all-reduce adds the ranks'
/// values in rank order (((r0 + r1) + r2) + …) on every rank, so the result depends on neither thread timing nor
/// which rank computes it. A rank that fails cancels the group, so the others leave their wait instead of hanging.
/// </summary>
public sealed class InProcessGroup : IDisposable
{
    private readonly Barrier barrier;
    private readonly Array?[] slots;
    private readonly CancellationTokenSource failed = new();

    public InProcessGroup(int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(worldSize);
        WorldSize = worldSize;
        barrier = new Barrier(worldSize);
        slots = new Array?[worldSize];
    }

    public int WorldSize { get; }

    /// <summary>Runs <paramref name="work"/> once per rank, each on its own thread, and returns the results in rank order.</summary>
    public static T[] Run<T>(int worldSize, Func<ICollective, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var group = new InProcessGroup(worldSize);
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        Thread[] threads = [.. Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using ICollective member = group.Member(rank);
                results[rank] = work(member);
            }
            catch (Exception e)
            {
                errors[rank] = e;
                group.failed.Cancel();
            }
        }) { Name = $"reclip-rank-{rank}" })];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        // A rank's own failure is the cause; cancellations are ranks released because of it.
        if ((errors.FirstOrDefault(e => e is not null and not OperationCanceledException) ?? errors.FirstOrDefault(e => e is not null)) is Exception error)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return results;
    }

    /// <summary>The collective of rank <paramref name="rank"/>; each rank's calls must come from one thread at a time.</summary>
    public ICollective Member(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, WorldSize);
        return new GroupRank(this, rank);
    }

    public void Dispose()
    {
        barrier.Dispose();
        failed.Dispose();
    }

    private void Wait() => barrier.SignalAndWait(failed.Token);

    private void AllReduce<T>(int rank, Span<T> values) where T : unmanaged, INumber<T>
    {
        slots[rank] = values.ToArray();
        Wait();
        T[][] parts = [.. slots.Select(s => (T[])s!)];
        int length = values.Length;
        if (parts.FirstOrDefault(p => p.Length != length) is T[] other)
            throw new ArgumentException($"all-reduce: rank {rank} has {length} values, another rank {other.Length}", nameof(values));
        RankOrderSum(parts, values);
        // Nobody may overwrite a slot before every rank has read all of them.
        Wait();
    }

    /// <summary>sum[i] = ((parts[0][i] + parts[1][i]) + parts[2][i]) + …: the one summation order of the CPU transports.</summary>
    internal static void RankOrderSum<T>(T[][] parts, Span<T> sum) where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < sum.Length; i++)
        {
            T total = parts[0][i];
            for (int r = 1; r < parts.Length; r++)
                total += parts[r][i];
            sum[i] = total;
        }
    }

    private void Broadcast(int rank, Span<float> values, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        if (rank == root)
            slots[root] = values.ToArray();
        Wait();
        if (rank != root)
        {
            float[] source = (float[])slots[root]!;
            if (source.Length != values.Length)
                throw new ArgumentException($"broadcast: rank {rank} expects {values.Length} values, rank {root} sent {source.Length}", nameof(values));
            source.CopyTo(values);
        }
        Wait();
    }

    private sealed class GroupRank(InProcessGroup group, int rank) : ICollective
    {
        public int Rank => rank;

        public int WorldSize => group.WorldSize;

        public void AllReduceSum(Span<float> values) => group.AllReduce(rank, values);

        public void AllReduceSum(Span<double> values) => group.AllReduce(rank, values);

        public void Broadcast(Span<float> values, int root) => group.Broadcast(rank, values, root);

        public void Barrier() => group.Wait();

        public void Dispose()
        {
        }
    }
}
