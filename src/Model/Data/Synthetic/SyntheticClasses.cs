namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// The classes of the synthetic world, in label order: five "stuff" surfaces and six "things". Things differ
/// from each other by colour, texture and size more than by outline, because a small CLIP trained for minutes
/// learns colour and texture first (docs/SYNTHETIC_WORLD.md).
/// </summary>
public static class SyntheticClasses
{
    public const byte Sky = 0, Grass = 1, Water = 2, Sand = 3, Road = 4;
    public const byte Sun = 5, Boat = 6, Car = 7, Tree = 8, Umbrella = 9, Ball = 10;

    public static IReadOnlyList<string> Names { get; } =
        ["sky", "grass", "water", "sand", "road", "sun", "boat", "car", "tree", "umbrella", "ball"];

    public static bool IsStuff(int label) => label <= Road;
}
