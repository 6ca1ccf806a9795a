namespace ReClip.Bench.Plot;

/// <summary>The checkout the tool runs from, so its default folders do not depend on the working directory.</summary>
public static class RepositoryFolders
{
    public static string Root()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "ReCLIP.sln")))
                return folder.FullName;
        return Environment.CurrentDirectory;
    }
}
