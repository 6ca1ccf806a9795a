using System.Runtime.ExceptionServices;
using ReClip.Runtime.Platform;

namespace ReClip.Runtime.Threading;

/// <summary>A piece of work split into numbered tasks that may run on any compute thread.</summary>
public interface IParallelJob
{
    void Execute(int task);
}

/// <summary>
/// Persistent compute threads for the CPU kernels. A GEMM of a few milliseconds cannot afford
/// Parallel.For's scheduling (measured: a 5–10 ms GEMM ran no faster on two cores than on one), so the workers stay
/// alive, spin briefly for the next job (kernels come back to back) and only then sleep. The calling
/// thread takes tasks too. A job started from inside a job runs inline on the calling thread.
/// </summary>
public sealed class ComputePool : IDisposable
{
    /// <summary>How long an idle worker spins before it sleeps, in SpinWait iterations (~0.1 ms).</summary>
    private const int SpinIterations = 2000;

    [ThreadStatic]
    private static bool insideJob;

    private readonly Thread[] workers;
    private readonly Lock runGate = new();
    private readonly object wakeGate = new();
    private IParallelJob? job;
    private int taskCount;
    private int nextTask;
    private int busyWorkers;
    private long generation;
    private Exception? failure;
    private volatile bool disposed;

    public ComputePool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"reclip-compute-{i + 1}" };
            workers[i].Start();
        }
    }

    public static ComputePool Shared { get; } = new(CpuInfo.Threads);

    public int Threads { get; }

    /// <summary>Runs tasks 0..count-1 of <paramref name="work"/> across the pool and returns when all are done.</summary>
    public void Run(int count, IParallelJob work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (count <= 0) return;
        if (count == 1 || workers.Length == 0 || insideJob)
        {
            for (int task = 0; task < count; task++)
                work.Execute(task);
            return;
        }
        lock (runGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            job = work;
            taskCount = count;
            failure = null;
            Volatile.Write(ref nextTask, 0);
            Volatile.Write(ref busyWorkers, workers.Length);
            lock (wakeGate)
            {
                generation++;
                Monitor.PulseAll(wakeGate);
            }
            ExecuteTasks();
            var spinner = new SpinWait();
            while (Volatile.Read(ref busyWorkers) > 0)
                spinner.SpinOnce(sleep1Threshold: -1);
            job = null;
            // Rethrown as itself, so the exception a kernel throws does not depend on whether it ran in parallel.
            if (failure is { } error)
                ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    /// <summary>Stops the workers once no job is running (a running job finishes first).</summary>
    public void Dispose()
    {
        lock (runGate)
        {
            if (disposed) return;
            disposed = true;
            lock (wakeGate)
            {
                generation++;
                Monitor.PulseAll(wakeGate);
            }
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            int spins = 0;
            long current;
            while ((current = Volatile.Read(ref generation)) == seen)
            {
                if (spins++ < SpinIterations)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                lock (wakeGate)
                    while (Volatile.Read(ref generation) == seen)
                        Monitor.Wait(wakeGate);
            }
            seen = current;
            if (disposed) return;
            ExecuteTasks();
            Interlocked.Decrement(ref busyWorkers);
        }
    }

    private void ExecuteTasks()
    {
        IParallelJob? work = job;
        if (work is null) return;
        insideJob = true;
        try
        {
            int task;
            while ((task = Interlocked.Increment(ref nextTask) - 1) < taskCount)
                work.Execute(task);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
            Volatile.Write(ref nextTask, int.MaxValue / 2);
        }
        finally
        {
            insideJob = false;
        }
    }
}
