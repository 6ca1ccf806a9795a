"""Reading the JSON files tools/gpu/run.sh writes: a missing or empty one (a step that failed) is reported, not raised."""
import json


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"{path}: not readable ({e})")
        return None
