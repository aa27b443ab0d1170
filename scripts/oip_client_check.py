#!/usr/bin/env python3
"""Drives a running `visionc serve` with the clients people use (Triton's Python client over
HTTP, and plain HTTP for what it cannot send) and checks the Open Inference Protocol contract:
health, metadata, infer with binary and JSON tensors, a raw image body, the error statuses,
and that the server stays live after bad requests. Run by Tests/ServeTests with .venv-clients.

    oip_client_check.py --url 127.0.0.1:PORT --model classify --image IMG --expected EXPECTED.json
                        --max-body-mb N
    oip_client_check.py --url 127.0.0.1:PORT --model classify --image IMG --overload 8
    oip_client_check.py --url 127.0.0.1:PORT --model classify_batched --image IMG --expected E.json --batching 8 [--batch-delay-ms 50]
    oip_client_check.py --url H:P --grpc-url H:P --model classify --image IMG --expected E.json --grpc --big-image B --big-expected BE.json

The second form fires 8 requests at once at a server with one worker and no queue: some must
get 503 (queue full) with an error body, the others 200, and the server stays live.

EXPECTED.json holds what `visionc run --json` gives for IMG: {"results": [{"class", "score", "label"}]}.
Prints one line per check; exits 1 at the first failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

checks = 0


def check(condition: bool, what: str) -> None:
    global checks
    if not condition:
        print(f"FAIL: {what}", flush=True)
        sys.exit(1)
    checks += 1
    print(f"ok: {what}", flush=True)


def connect(url: str) -> http.client.HTTPConnection:
    host, port = url.split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    connection = connect(url)
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return response.status, data, {k.lower(): v for k, v in response.getheaders()}


def get(url: str, path: str) -> tuple[int, bytes]:
    connection = connect(url)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def same_ranking(results: list[dict], expected: list[dict]) -> bool:
    return [r["class"] for r in results] == [e["class"] for e in expected] and all(
        abs(r["score"] - e["score"]) <= 1e-5 and r.get("label") == e.get("label") for r, e in zip(results, expected))


def overload(url: str, model: str, image: bytes, clients: int) -> None:
    statuses: list[int] = []
    bodies: list[bytes] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def send() -> None:
        start.wait()
        status, body, _ = post(url, f"/v2/models/{model}/infer", image, {"Inference-Header-Content-Length": "0"})
        with lock:
            statuses.append(status)
            bodies.append(body)

    threads = [threading.Thread(target=send) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    check(len(statuses) == clients, f"all {clients} concurrent requests answered")
    check(set(statuses) <= {200, 503}, f"only 200 and 503 under overload (got {sorted(statuses)})")
    check(statuses.count(503) >= 1 and statuses.count(200) >= 1, f"the full queue refuses some and serves others (got {sorted(statuses)})")
    check(all("error" in json.loads(b) for s, b in zip(statuses, bodies) if s == 503), "every 503 carries an error")
    status, _ = get(url, "/v2/health/live")
    check(status == 200, "still live after the overload")


def batching(url: str, model: str, image: bytes, clients: int, expected: list[dict], delay_s: float) -> None:
    """Fires `clients` requests at once at a model with a batching queue: every answer is
    the expected ranking, the stats endpoint shows fewer executions than inferences, and no
    request took longer than the queue's delay plus the compute of its batch (bounded by two
    batches of `clients` lone-request computes, with 250 ms for scheduling)."""
    results: list[tuple[int, bytes]] = []
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    # A lone request waits the whole delay for company, then computes alone.
    began = time.monotonic()
    status, _, _ = post(url, f"/v2/models/{model}/infer", image, {"Inference-Header-Content-Length": "0"})
    lone = time.monotonic() - began
    check(status == 200, "a lone request to the batching model is served")
    compute = max(0.0, lone - delay_s)

    def send() -> None:
        start.wait()
        began = time.monotonic()
        status, body, _ = post(url, f"/v2/models/{model}/infer", image, {"Inference-Header-Content-Length": "0"})
        with lock:
            results.append((status, body))
            latencies.append(time.monotonic() - began)

    threads = [threading.Thread(target=send) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    check([s for s, _ in results] == [200] * clients, f"all {clients} concurrent requests served (got {sorted(s for s, _ in results)})")
    for _, body in results:
        outputs = {o["name"]: o for o in json.loads(body)["outputs"]}
        ranking = json.loads(outputs["result"]["data"][0])["results"]
        check(same_ranking(ranking, expected), "a batched answer equals the single-request one")
    status, body = get(url, f"/v2/models/{model}/stats")
    stats = json.loads(body)["model_stats"][0]
    check(stats["inference_count"] == clients + 1 and 0 < stats["execution_count"] < clients + 1,
          f"requests shared batches: {stats['execution_count']} executions for {clients + 1} requests")
    bound = delay_s + 2 * clients * compute + 0.25
    check(max(latencies) <= bound, f"every batched request within delay + compute: slowest {max(latencies) * 1000:.0f} ms, "
          f"bound {bound * 1000:.0f} ms (lone request {lone * 1000:.0f} ms)")
    print(f"oip_client_check: {clients} requests in {stats['execution_count']} executions", flush=True)


def drain(url: str, model: str, image: bytes, pid: int) -> None:
    """SIGTERMs the server `pid` and checks the drain: readiness 503 at once while live
    stays 200 and inference still answers, then the listener closes."""
    status, _ = get(url, "/v2/health/ready")
    check(status == 200, f"ready before the signal (got {status})")
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)
    status, body = get(url, "/v2/health/ready")
    check(status == 503 and "error" in json.loads(body), f"readiness answers 503 once draining (got {status})")
    status, _ = get(url, f"/v2/models/{model}/ready")
    check(status == 503, f"model readiness answers 503 once draining (got {status})")
    status, _ = get(url, "/v2/health/live")
    check(status == 200, f"still live while draining (got {status})")
    status, _, _ = post(url, f"/v2/models/{model}/infer", image, {"Inference-Header-Content-Length": "0"})
    check(status == 200, f"a request during the drain is still served (got {status})")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            get(url, "/v2/health/live")
        except OSError:
            break
        time.sleep(0.2)
    else:
        check(False, "the listener closed within 30 s of the signal")


def grpc_checks(url: str, model: str, image: bytes, expected: list[dict], big_image: bytes, big_expected: list[dict]) -> None:
    """inference.GRPCInferenceService with tritonclient.grpc: health, metadata, inference on
    a JPEG and on a large image (BYTES in raw_input_contents), the error codes."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(url=url)
    check(client.is_server_live() and client.is_server_ready(), "gRPC: server live and ready")
    check(client.is_model_ready(model), f"gRPC: model {model} ready")
    metadata = client.get_server_metadata()
    check(metadata.name == "visionc" and "binary_tensor_data" in metadata.extensions, "gRPC: server metadata")
    model_metadata = client.get_model_metadata(model)
    check([i.datatype for i in model_metadata.inputs] == ["BYTES"], "gRPC: the model takes one BYTES input")
    input_name = model_metadata.inputs[0].name
    output_names = [o.name for o in model_metadata.outputs]
    check("result" in output_names, "gRPC: the model has a readable result output")

    def infer_input(data: bytes):
        tensor = grpcclient.InferInput(input_name, [1], "BYTES")
        tensor.set_data_from_numpy(np.array([data], dtype=np.object_))
        return tensor

    def infer(data: bytes, request_id: str = ""):
        return client.infer(model, [infer_input(data)], request_id=request_id, client_timeout=120)

    def code_of(call) -> str:
        try:
            call()
        except InferenceServerException as error:
            return str(error.status())
        return "OK"

    answer = infer(image, "g1")
    check(answer.get_response().id == "g1", "gRPC: the response carries the request id")
    check(same_ranking(json.loads(answer.as_numpy("result")[0])["results"], expected), "gRPC: top-5 equals visionc run")
    scores = [answer.as_numpy(n) for n in output_names if n != "result"]
    check(any(s.dtype == np.float32 and np.allclose(s.ravel(), [e["score"] for e in expected], atol=1e-5) for s in scores),
          "gRPC: the FP32 output holds the top-5 scores")
    answer = client.infer(model, [infer_input(image)], priority=1, timeout=10_000_000, client_timeout=120)
    check(same_ranking(json.loads(answer.as_numpy("result")[0])["results"], expected), "gRPC: priority 1 with a timeout: served")
    status = code_of(lambda: client.infer(model, [infer_input(image)], priority=9))
    check(status == "StatusCode.INVALID_ARGUMENT", f"gRPC: a priority level the model lacks is INVALID_ARGUMENT (got {status})")
    answer = infer(big_image)
    check(len(big_image) > 20_000_000 and same_ranking(json.loads(answer.as_numpy("result")[0])["results"], big_expected),
          f"gRPC: a {len(big_image) / 1e6:.1f} MB image answers as visionc run")
    status = code_of(lambda: client.get_model_metadata("no-such-model"))
    check(status == "StatusCode.NOT_FOUND", f"gRPC: unknown model is NOT_FOUND (got {status})")
    status = code_of(lambda: client.infer("no-such-model", []))
    check(status == "StatusCode.NOT_FOUND", f"gRPC: infer on an unknown model is NOT_FOUND (got {status})")
    def wrong_datatype():
        tensor = grpcclient.InferInput(input_name, [1, 3], "FP32")
        tensor.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        client.infer(model, [tensor])
    status = code_of(wrong_datatype)
    check(status == "StatusCode.INVALID_ARGUMENT", f"gRPC: wrong datatype is INVALID_ARGUMENT (got {status})")
    status = code_of(lambda: infer(b"not an image at all"))
    check(status == "StatusCode.INVALID_ARGUMENT", f"gRPC: bytes that are no image are INVALID_ARGUMENT (got {status})")
    check(client.is_server_live(), "gRPC: still live after the bad requests")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--metrics-url", help="host:port of the Prometheus listener (needed by the protocol checks)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--expected")
    parser.add_argument("--max-body-mb", type=int)
    parser.add_argument("--overload", type=int, help="fire this many requests at once instead of the protocol checks")
    parser.add_argument("--batching", type=int, help="fire this many requests at once at a batching model (needs --expected)")
    parser.add_argument("--batch-delay-ms", type=float, default=50.0, help="the batching model's max_delay_us, in ms")
    parser.add_argument("--drain-pid", type=int, help="SIGTERM this server process and check that it drains")
    parser.add_argument("--grpc-url", help="host:port of the gRPC listener")
    parser.add_argument("--grpc", action="store_true", help="run the gRPC checks (needs --grpc-url, --expected, --big-image, --big-expected)")
    parser.add_argument("--big-image")
    parser.add_argument("--big-expected")
    args = parser.parse_args()
    image = open(args.image, "rb").read()
    if args.grpc:
        grpc_checks(args.grpc_url, args.model, image, json.load(open(args.expected))["results"],
                    open(args.big_image, "rb").read(), json.load(open(args.big_expected))["results"])
        print(f"oip_client_check: {checks} checks passed", flush=True)
        return
    if args.drain_pid:
        drain(args.url, args.model, image, args.drain_pid)
        print(f"oip_client_check: {checks} checks passed", flush=True)
        return
    if args.batching:
        batching(args.url, args.model, image, args.batching, json.load(open(args.expected))["results"], args.batch_delay_ms / 1000)
        print(f"oip_client_check: {checks} checks passed", flush=True)
        return
    if args.overload:
        overload(args.url, args.model, image, args.overload)
        print(f"oip_client_check: {checks} checks passed", flush=True)
        return
    if args.expected is None or args.max_body_mb is None:
        parser.error("--expected and --max-body-mb are needed for the protocol checks")
    expected = json.load(open(args.expected))["results"]
    client = httpclient.InferenceServerClient(url=args.url, network_timeout=60.0)

    check(client.is_server_live(), "server live")
    check(client.is_server_ready(), "server ready")
    check(client.is_model_ready(args.model), f"model {args.model} ready")
    server = client.get_server_metadata()
    check(server["name"] == "visionc" and "binary_tensor_data" in server["extensions"], "server metadata names the binary extension")
    metadata = client.get_model_metadata(args.model)
    check([i["datatype"] for i in metadata["inputs"]] == ["BYTES"], "the model takes one BYTES input")
    input_name = metadata["inputs"][0]["name"]
    output_names = [o["name"] for o in metadata["outputs"]]
    check("result" in output_names, "the model has a readable result output")

    # tritonclient's default: inputs binary; numeric outputs binary, the result as JSON.
    tensor = httpclient.InferInput(input_name, [1], "BYTES")
    tensor.set_data_from_numpy(np.array([image], dtype=np.object_))
    outputs = [httpclient.InferRequestedOutput(name, binary_data=(name != "result")) for name in output_names]
    answer = client.infer(args.model, [tensor], outputs=outputs, request_id="r1")
    check(answer.get_response()["id"] == "r1", "the response carries the request id")
    readable = json.loads(answer.as_numpy("result")[0])
    check(same_ranking(readable["results"], expected), "binary request: top-5 equals visionc run")
    numeric = [name for name in output_names if name != "result"]
    scores = [answer.as_numpy(name) for name in numeric]
    check(any(s.dtype == np.float32 and np.allclose(s.ravel(), [e["score"] for e in expected], atol=1e-5) for s in scores),
          "binary FP32 output holds the top-5 scores")
    check(any(s.dtype == np.int64 and list(s.ravel()) == [e["class"] for e in expected] for s in scores),
          "binary INT64 output holds the top-5 classes")

    # Triton's scheduling parameters: priority 1 (the highest level) and a generous timeout
    # are served; a level the model does not have is a 400.
    answer = client.infer(args.model, [tensor], outputs=outputs, priority=1, timeout=10_000_000)
    check(same_ranking(json.loads(answer.as_numpy("result")[0])["results"], expected), "priority 1 with a timeout: served")
    try:
        client.infer(args.model, [tensor], priority=9)
        check(False, "priority 9 refused")
    except InferenceServerException as error:
        check(error.status() == "400", f"a priority level the model lacks: 400 (got {error.status()}: {error.message()})")

    # Everything as JSON on the way back.
    answer = client.infer(args.model, [tensor], outputs=[httpclient.InferRequestedOutput(n, binary_data=False) for n in output_names])
    check(same_ranking(json.loads(answer.as_numpy("result")[0])["results"], expected), "JSON outputs: top-5 equals visionc run")

    # A raw body: the image itself, header length 0 (curl --data-binary).
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", image, {"Inference-Header-Content-Length": "0"})
    check(status == 200, f"raw image body: 200 (got {status})")
    result = next(o for o in json.loads(body)["outputs"] if o["name"] == "result")
    check(same_ranking(json.loads(result["data"][0])["results"], expected), "raw image body: top-5 equals visionc run")

    # The error contract.
    status, body = get(args.url, "/v2/models/no-such-model")
    check(status == 404 and "error" in json.loads(body), f"unknown model: 404 with an error (got {status})")
    status, body, _ = post(args.url, "/v2/models/no-such-model/infer", b"{}", {})
    check(status == 404, f"infer on an unknown model: 404 (got {status})")
    try:
        wrong = httpclient.InferInput(input_name, [1, 3], "FP32")
        wrong.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        client.infer(args.model, [wrong])
        check(False, "FP32 input refused")
    except InferenceServerException as error:
        check(error.status() == "400", f"wrong datatype: 400 (got {error.status()}: {error.message()})")
    header = json.dumps({"inputs": [{"name": input_name, "datatype": "BYTES", "shape": [1],
                                     "parameters": {"binary_data_size": len(image) + 4}}]}).encode()
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", header, {"Inference-Header-Content-Length": str(len(header) + 10)})
    check(status == 400 and "error" in json.loads(body), f"header length past the body: 400 (got {status})")
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", header, {"Inference-Header-Content-Length": "abc"})
    check(status == 400, f"header length not a number: 400 (got {status})")
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", b"{not json", {})
    check(status == 400 and "error" in json.loads(body), f"JSON that does not parse: 400 (got {status})")
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", b"not an image at all", {"Inference-Header-Content-Length": "0"})
    check(status == 400 and "error" in json.loads(body), f"bytes that are no image: 400 (got {status}: {body[:120]!r})")
    oversize = b"\xff" * ((args.max_body_mb << 20) + 1)
    status, body, _ = post(args.url, f"/v2/models/{args.model}/infer", oversize, {"Inference-Header-Content-Length": "0"})
    check(status == 400, f"body over the limit: 400 (got {status})")
    check(client.is_server_live(), "still live after the bad requests")

    stats = client.get_inference_statistics(args.model)["model_stats"][0]
    check(int(stats["inference_count"]) == 4, f"stats count the 4 successful requests (got {stats['inference_count']})")
    check(int(stats["inference_stats"]["fail"]["count"]) >= 1, "stats count the failed one")

    # Prometheus, named as Triton's.
    status, body = get(args.metrics_url, "/metrics")
    text = body.decode()
    labels = f'model="{args.model}",version="1"'
    def metric(name: str) -> float:
        for line in text.splitlines():
            if line.startswith(name + "{") and labels in line:
                return float(line.rsplit(" ", 1)[1])
        return float("nan")
    check(status == 200 and metric("nv_inference_request_success") == 4, f"metrics: 4 successes (got {metric('nv_inference_request_success')})")
    check(metric("nv_inference_request_failure") >= 1, "metrics: the failure counted")
    check(metric("nv_inference_compute_infer_duration_us") > 0, "metrics: inference time recorded")
    check('visionc_stage_duration_us{' in text and 'stage="decode"' in text, "metrics: visionc's per-stage time")
    print(f"oip_client_check: {checks} checks passed", flush=True)


if __name__ == "__main__":
    main()
