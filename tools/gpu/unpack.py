"""Unpacks prepare.sh's bundle into a folder and links in what the checkout carries beside it: the bundled tiny
CLIP (assets/) and the tests' reference files (fixtures/). Python's tarfile reads .tar.xz, so the GPU machine needs
no xz. Usage: unpack.py BUNDLE FOLDER CHECKOUT"""
import os
import sys
import tarfile


def main() -> None:
    bundle, folder, checkout = sys.argv[1:4]
    os.makedirs(folder, exist_ok=True)
    with tarfile.open(bundle) as archive:
        archive.extractall(folder, filter="tar")
    for name, target in (("assets", "assets"), ("fixtures", os.path.join("tests", "fixtures"))):
        link = os.path.join(folder, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(os.path.abspath(checkout), target), link)


if __name__ == "__main__":
    main()
