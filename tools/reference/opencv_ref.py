#!/usr/bin/python3
"""Reference for the OpenCV steps of the authors' training and evaluation pipeline (spec §1.3, §1.4), for the C#
exactness tests of ReClip.Model.Data.ImageResize, PhotometricDistortion and the JPEG decoding of PngFiles.

Run:  /usr/bin/python3 tools/reference/opencv_ref.py      (OpenCV 4.6.0 as Debian 12 builds it: apt-get install
      python3-opencv; Pillow). Another build of OpenCV (pip's wheels) may round otherwise where its vector code or its
      compiler's contractions differ; the fixture records the version.
Writes tests/fixtures/opencv/opencv.json (about 50 KB) and the JPEG files it describes (tests/fixtures/opencv/jpeg/,
eight of them carrying each EXIF orientation),
and the float32 values of the authors' normalisation (cv2.subtract, cv2.multiply) for every grey level. Source images are a hash pattern of their index that the C#
test regenerates (`pattern` below), so only the outputs are stored: in full (base64) when small, otherwise as their
SHA-256. The colour conversions are stored as digests over every input: all 2^24 RGB colours for RGB->HSV, and all
180*256*256 HSV triples for HSV->RGB, laid out in rows of several widths, since OpenCV converts the first
32*floor(width/32) pixels of each row with its vector code and the rest with its scalar code, which round differently.
"""
import base64
import hashlib
import json
import os

import cv2
import numpy as np
from PIL import Image

FULL_LIMIT = 4096  # bytes; larger outputs are stored as a digest

# (source w, h) -> (target w, h): VOC's evaluation resize both ways, the random rescale's range (x0.5 .. x2),
# an exact halving (which OpenCV runs as INTER_AREA), odd sizes, one axis only, 1-pixel edges, widths below and
# across OpenCV's vector widths.
BILINEAR = [
    ((500, 375), (448, 336)), ((375, 500), (336, 448)), ((500, 375), (1000, 750)), ((500, 375), (250, 188)),
    ((64, 48), (32, 24)), ((512, 512), (256, 256)), ((64, 48), (32, 48)), ((37, 23), (16, 41)), ((7, 5), (13, 11)),
    ((7, 5), (4, 3)), ((40, 13), (40, 26)), ((1, 1), (3, 3)), ((1, 9), (4, 2)), ((2, 1), (1, 1)), ((3, 64), (2, 5)),
    ((100, 37), (233, 81)), ((333, 250), (512, 384)), ((500, 333), (751, 500)), ((6, 6), (5, 5)), ((9, 9), (3, 3)),
    ((11, 7), (33, 21)), ((76, 57), (61, 33)), ((36, 3), (1, 15)), ((5, 8), (45, 100)),
]
# And 40 shapes drawn at random (seeded): sources up to 90 pixels a side, targets up to 120.
# Stored as digests only.
RANDOM_BILINEAR = [((int(w), int(h)), (int(tw), int(th)))
                   for w, h, tw, th in np.random.default_rng(4).integers(1, [91, 91, 121, 121], size=(40, 4))]
# Label maps (one channel) with INTER_NEAREST.
NEAREST = [((500, 375), (448, 336)), ((375, 500), (750, 1000)), ((7, 5), (13, 11)), ((13, 11), (7, 5)), ((3, 1), (5, 1)),
           ((1, 1), (4, 3)), ((97, 61), (33, 190))]
RANDOM_NEAREST = [((int(w), int(h)), (int(tw), int(th)))
                  for w, h, tw, th in np.random.default_rng(5).integers(1, [91, 91, 121, 121], size=(20, 4))]
# Row widths of the HSV->RGB layout (each divides 180*256*256): all vector (4096), all scalar (16, 24), both
# (48 = 32 + 16, 80 = 64 + 16).
HSV_ROW_WIDTHS = [4096, 16, 24, 48, 80]
# JPEG files decoded by cv2.imdecode(IMREAD_COLOR), as the authors read images: sizes that are not whole blocks, written
# by OpenCV (quality 75, 4:2:0) and by Pillow (quality 85: 4:2:0, 4:2:2, 4:4:4, and progressive 4:2:0).
JPEG_SIZES = [(37, 23), (61, 45)]
JPEG_KINDS = ["opencv-q75", "pillow-420", "pillow-422", "pillow-444", "pillow-progressive"]
# Photometric steps with fixed draws on a pattern image 75 pixels wide (rows of two vector blocks and a tail of 11).
# Saturation 0.7 and 1.3 truncate otherwise in float32 than in double for some S (90, 170, 180, 190).
PHOTOMETRIC_SIZE = (75, 41)
PHOTOMETRIC_STEPS = [("brightness", -20.37), ("brightness", 31.9), ("contrast", 0.613), ("contrast", 1.4471),
                     ("saturation", 0.5172), ("saturation", 0.7), ("saturation", 1.3), ("saturation", 1.4999), ("hue", -18), ("hue", 7), ("hue", 17)]
# IMG_NORM_CFG of every ReCLIP++ config (RGB order, 0..255 units).
DATASET_MEAN, DATASET_STD = [122.771, 116.746, 104.094], [68.501, 66.632, 70.323]


def pattern(width, height, channels):
    """Bytes (i * 2654435761 mod 2^32) >> 13 & 255 over the bytes, i = their index: reproducible anywhere."""
    i = np.arange(width * height * channels, dtype=np.uint64)
    data = ((i * 2654435761) % (1 << 32)) >> 13 & 255
    return data.astype(np.uint8).reshape((height, width, channels) if channels > 1 else (height, width))


def entry(output, full=True, **sizes):
    data = np.ascontiguousarray(output).tobytes()
    e = dict(sizes, sha256=hashlib.sha256(data).hexdigest())
    if full and len(data) <= FULL_LIMIT:
        e["pixels"] = base64.b64encode(data).decode("ascii")
    return e


def jpeg_source(width, height):
    """A gradient with the pattern's low bits as noise, in BGR: smooth enough for JPEG, busy enough to round."""
    y, x = np.mgrid[0:height, 0:width]
    gradient = np.stack([x * 255 // width, y * 255 // height, (3 * x + 5 * y) % 256], -1)
    return np.clip(gradient + (pattern(width, height, 3).astype(np.int64) & 31) - 16, 0, 255).astype(np.uint8)


def write_jpeg(path, image, kind):
    if kind == "opencv-q75":
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
        assert ok
        with open(path, "wb") as f:
            f.write(data.tobytes())
        return
    subsampling = {"pillow-420": 2, "pillow-422": 1, "pillow-444": 0, "pillow-progressive": 2}[kind]
    Image.fromarray(np.ascontiguousarray(image[..., ::-1])).save(path, quality=85, subsampling=subsampling,
                                                                  progressive=kind == "pillow-progressive")


def jpeg_entries(folder):
    os.makedirs(folder, exist_ok=True)
    entries = []
    for width, height in JPEG_SIZES:
        for kind in JPEG_KINDS:
            name = f"{kind}-{width}x{height}.jpg"
            write_jpeg(os.path.join(folder, name), jpeg_source(width, height), kind)
            decoded = cv2.imdecode(np.fromfile(os.path.join(folder, name), np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
            # The hypothesis reads images with PIL (spec §8): the same bytes, so one digest serves both.
            assert (np.asarray(Image.open(os.path.join(folder, name)).convert("RGB")) == decoded).all(), name
            entries.append(entry(decoded, file=name, size=[width, height]))
    return entries


def photometric_steps():
    """The four steps of the authors' PhotoMetricDistortion (utils/preprocess.py) with fixed draws, each on the BGR
    pattern image, written as they are there; outputs in RGB order."""
    rgb = pattern(*PHOTOMETRIC_SIZE, 3)
    entries = []
    for kind, value in PHOTOMETRIC_STEPS:
        img = np.ascontiguousarray(rgb[..., ::-1])
        if kind == "brightness":
            img = np.clip(img.astype(np.float32) + value, 0, 255).astype(np.uint8)
        elif kind == "contrast":
            img = np.clip(img.astype(np.float32) * value, 0, 255).astype(np.uint8)
        elif kind == "saturation":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            img[:, :, 1] = img[:, :, 1].astype(np.float32) * value
            img[:, :, 1] = np.clip(img[:, :, 1], 0, 255)
            img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
        else:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            img[:, :, 0] = (img[:, :, 0].astype(int) + value) % 180
            img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
        entries.append(entry(img[..., ::-1], step=kind, value=value))
    return entries


def dataset_normalization():
    """Every grey level of every channel through the authors' normalisation (utils/preprocess.py, spec §1.3 step 6):
    float32 image, BGR->RGB, cv2.subtract of the float64 mean, cv2.multiply by 1/std in float64; [256, 3] float32."""
    img = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2).astype(np.float32)
    mean = np.float64(np.array(DATASET_MEAN, dtype=np.float32).reshape(1, -1))
    stdinv = 1 / np.float64(np.array(DATASET_STD, dtype=np.float32).reshape(1, -1))
    cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    cv2.subtract(img, mean, img)
    cv2.multiply(img, stdinv, img)
    return img[0]


def oriented_jpeg_entries(folder):
    """One 37x23 picture stored with each EXIF orientation (1-8), decoded by cv2.imdecode(IMREAD_COLOR), which turns
    it as the tag says; PIL's Image.open does not turn it (the stored pixels are the same in every file)."""
    entries = []
    for orientation in range(1, 9):
        name = f"orientation-{orientation}.jpg"
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(np.ascontiguousarray(jpeg_source(37, 23)[..., ::-1])).save(os.path.join(folder, name), quality=90, exif=exif.tobytes())
        decoded = cv2.imdecode(np.fromfile(os.path.join(folder, name), np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        stored = np.asarray(Image.open(os.path.join(folder, name)).convert("RGB"))
        entries.append(dict(entry(decoded, file=name, size=[decoded.shape[1], decoded.shape[0]]), orientation=orientation,
                            stored_sha256=hashlib.sha256(stored.tobytes()).hexdigest()))
    return entries


def hsv_triples():
    """Every (H, S, V) with H < 180, in the order H, then S, then V."""
    n = np.arange(180 * 256 * 256, dtype=np.uint32)
    return np.stack([n >> 16, (n >> 8) & 255, n & 255], -1).astype(np.uint8)


def main():
    def resized(shapes, channels, interpolation, full):
        return [entry(cv2.resize(pattern(w, h, channels), (tw, th), interpolation=interpolation), full, source=[w, h], target=[tw, th])
                for (w, h), (tw, th) in shapes]
    bilinear = resized(BILINEAR, 3, cv2.INTER_LINEAR, True) + resized(RANDOM_BILINEAR, 3, cv2.INTER_LINEAR, False)
    nearest = resized(NEAREST, 1, cv2.INTER_NEAREST, True) + resized(RANDOM_NEAREST, 1, cv2.INTER_NEAREST, False)
    colours = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    # The authors convert BGR bytes with COLOR_BGR2HSV: the same values.
    assert (cv2.cvtColor(np.ascontiguousarray(rgb[..., ::-1]), cv2.COLOR_BGR2HSV) == hsv).all()
    triples = hsv_triples()
    back = []
    for width in HSV_ROW_WIDTHS:
        out = cv2.cvtColor(triples.reshape(-1, width, 3), cv2.COLOR_HSV2RGB)
        assert (cv2.cvtColor(triples.reshape(-1, width, 3), cv2.COLOR_HSV2BGR)[..., ::-1] == out).all()
        back.append({"row_width": width, "sha256": hashlib.sha256(out.tobytes()).hexdigest()})
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    folder = os.path.join(root, "tests", "fixtures", "opencv")
    jpeg = jpeg_entries(os.path.join(folder, "jpeg"))
    fixture = {
        "opencv": cv2.__version__,
        "jpeg": jpeg,
        "oriented_jpeg": oriented_jpeg_entries(os.path.join(folder, "jpeg")),
        "photometric": photometric_steps(),
        "dataset_normalization": base64.b64encode(dataset_normalization().astype("<f4").tobytes()).decode("ascii"),
        "bilinear": bilinear,
        "nearest": nearest,
        "rgb_to_hsv_sha256": hashlib.sha256(hsv.tobytes()).hexdigest(),
        "hsv_to_rgb": back,
    }
    path = os.path.join(folder, "opencv.json")
    with open(path + ".tmp", "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(f"wrote {os.path.relpath(path, root)}: OpenCV {cv2.__version__}, {len(bilinear)} bilinear, {len(nearest)} nearest, "
          f"HSV digests for rows of {HSV_ROW_WIDTHS}, {len(jpeg)} JPEG files")


if __name__ == "__main__":
    main()
