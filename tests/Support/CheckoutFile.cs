namespace ReClip.Tests.Support;

/// <summary>Files the checkout ships outside tests/fixtures (assets/…): the test assembly is built under tests/bin, so they lie in a folder above it.</summary>
public static class CheckoutFile
{
    public static string Find(string relativePath)
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, relativePath);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"no {relativePath} in any folder above {AppContext.BaseDirectory}");
    }
}
