namespace ReClip.Runtime.Cuda;

/// <summary>Compiled kernels (machine code or PTX) loaded into one device's context, and the functions looked up in it.</summary>
public sealed unsafe class CudaModule : IDisposable
{
    private readonly nint handle;
    private readonly Dictionary<string, CudaKernel> kernels = new(StringComparer.Ordinal);
    private bool disposed;

    private CudaModule(int device, nint handle, string name)
    {
        Device = device;
        this.handle = handle;
        Name = name;
    }

    public int Device { get; }

    public string Name { get; }

    /// <summary>
    /// Loads a module image: machine code (CUBIN) for the device's architecture, or PTX text ending in a NUL, which the
    /// driver compiles for the device (and keeps in its own cache across runs).
    /// </summary>
    public static CudaModule Load(int device, byte[] image, string name)
    {
        ArgumentNullException.ThrowIfNull(image);
        CudaDriver.MakeCurrent(device);
        nint handle;
        fixed (byte* p = image)
        {
            int status = DriverApi.cuModuleLoadData(out handle, p);
            if (status != 0)
                throw new CudaException("cuModuleLoadData", status, CudaDriver.StatusName(status), name);
        }
        return new CudaModule(device, handle, name);
    }

    /// <summary>The kernel of that (lowered) name; looked up once.</summary>
    public CudaKernel Kernel(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        lock (kernels)
        {
            if (kernels.TryGetValue(name, out CudaKernel? kernel))
                return kernel;
            CudaDriver.MakeCurrent(Device);
            int status = DriverApi.cuModuleGetFunction(out nint function, handle, name);
            if (status != 0)
                throw new CudaException("cuModuleGetFunction", status, CudaDriver.StatusName(status), $"{name} in {Name}");
            kernel = new CudaKernel(Device, function, name);
            kernels[name] = kernel;
            return kernel;
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        CudaDriver.MakeCurrent(Device);
        CudaDriver.Check(DriverApi.cuModuleUnload(handle), "cuModuleUnload");
    }
}
