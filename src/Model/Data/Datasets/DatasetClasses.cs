namespace ReClip.Model.Data.Datasets;

/// <summary>
/// Class names as the authors' code uses them (spec §1.2); the order is the class index after REDUCE_ZERO_LABEL.
/// ADE's "bed " keeps the code's literal trailing space (harmless for the tokenizer).
/// </summary>
public static class DatasetClasses
{
    public static IReadOnlyList<string> Voc { get; } =
    [
        "airplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "dining table", "dog", "horse",
        "motorbike", "person", "potted plant", "sheep", "sofa", "train", "tv monitor",
    ];

    public static IReadOnlyList<string> Context { get; } =
    [
        "airplane", "bag", "bed", "bedclothes", "bench", "bicycle", "bird", "boat", "book", "bottle", "building", "bus",
        "cabinet", "car", "cat", "ceiling", "chair", "cloth", "computer", "cow", "cup", "curtain", "dog", "door", "fence",
        "floor", "flower", "food", "grass", "ground", "horse", "keyboard", "light", "motorbike", "mountain", "mouse",
        "person", "plate", "platform", "potted plant", "road", "rock", "sheep", "shelves", "sidewalk", "sign", "sky", "snow",
        "sofa", "table", "track", "train", "tree", "truck", "tv monitor", "wall", "water", "window", "wood",
    ];

    public static IReadOnlyList<string> Ade { get; } =
    [
        "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed ", "windowpane", "grass", "cabinet", "sidewalk",
        "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water", "painting", "sofa",
        "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp",
        "bathtub", "railing", "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink",
        "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table", "pillow",
        "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill",
        "bench", "countertop", "stove", "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine",
        "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth",
        "television receiver", "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman",
        "bottle", "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
        "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food",
        "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket",
        "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen", "plate",
        "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
    ];

    public static IReadOnlyList<string> Cityscapes { get; } =
    [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
        "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ];

    public static IReadOnlyList<string> CocoStuff { get; } =
    [
        "electronic", "appliance", "food things", "furniture things", "indoor", "kitchen", "accessory", "animal", "outdoor",
        "person", "sports", "vehicle", "ceiling", "floor", "food stuff", "furniture stuff", "raw material", "textile", "wall",
        "window", "building", "ground", "plant", "sky", "solid", "structural", "water",
    ];

    /// <summary>The fixed list of a standard layout; the generic folder's names come from its classes.txt.</summary>
    public static IReadOnlyList<string> Of(DatasetLayout layout) => layout switch
    {
        DatasetLayout.Voc => Voc,
        DatasetLayout.Context => Context,
        DatasetLayout.Ade => Ade,
        DatasetLayout.Cityscapes => Cityscapes,
        DatasetLayout.CocoStuff => CocoStuff,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "the folder layout lists its classes in classes.txt"),
    };
}
