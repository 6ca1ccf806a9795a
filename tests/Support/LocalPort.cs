using System.Net;
using System.Net.Sockets;

namespace ReClip.Tests.Support;

internal static class LocalPort
{
    /// <summary>A loopback port nobody listens on right now (the system's pick for a listener that is closed at once).</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
