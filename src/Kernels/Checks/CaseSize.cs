using System.Globalization;

namespace ReClip.Kernels.Checks;

/// <summary>Reads the sizes out of a case name such as "197x768".</summary>
internal static class CaseSize
{
    public static int[] Parse(string testCase) =>
        testCase.Split('x').Select(part => int.Parse(part, CultureInfo.InvariantCulture)).ToArray();

    public static (int, int) Two(string testCase) => Parse(testCase) is [int a, int b]
        ? (a, b)
        : throw new ArgumentException($"case '{testCase}' is not of the form AxB");
}
