#!/usr/bin/env python3
"""Reads the demo's TensorBoard logs back through TensorBoard itself (its HTTP data API).

usage: tensorboard-check.py TENSORBOARD_BINARY DEMO_REPORT_DIR

Starts `tensorboard --logdir DEMO_REPORT_DIR/tensorboard` on loopback, waits until it has loaded the
three runs, then checks: each run's scalars (per step, per epoch, sharpness), that every epoch's
test accuracy equals report.json's (as float32), the parameters' histograms, the hyperparameters'
text and the landscape image. Exit status 0 when all hold, 1 with the first failure otherwise.
"""
import json
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, **query):
    url = "http://127.0.0.1:%d%s" % (port, path)
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def main():
    binary, report_dir = sys.argv[1], sys.argv[2]
    logdir = report_dir.rstrip("/") + "/tensorboard"
    report = json.load(open(report_dir.rstrip("/") + "/report.json"))
    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stop the server
    server = subprocess.Popen([binary, "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port),
                               "--reload_interval", "1"],
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        runs = set()
        expected = {r["config"]["optimizer"] for r in report["runs"]}
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                tags = get(port, "/data/plugin/scalars/tags")
                runs = {run for run, t in tags.items() if "epoch/test_accuracy" in t}
                if runs >= expected and all("sharpness/lambda_max" in tags[r] for r in expected):
                    break
            except OSError:
                pass
            if server.poll() is not None:
                log.seek(0)
                raise SystemExit("tensorboard exited: " + log.read().decode("utf-8", "replace")[-2000:])
            time.sleep(1)
        if not runs >= expected:
            raise SystemExit("tensorboard shows runs %s, expected %s" % (sorted(runs), sorted(expected)))
        scalars = get(port, "/data/plugin/scalars/tags")
        histograms = get(port, "/data/plugin/histograms/tags")
        texts = get(port, "/data/plugin/text/tags")
        images = get(port, "/data/plugin/images/tags")
        for r in report["runs"]:
            name = r["config"]["optimizer"]
            for tag in ["train/loss", "train/lr", "train/skipped", "epoch/train_loss", "epoch/test_accuracy",
                        "sharpness/lambda_max", "sharpness/trace"]:
                if tag not in scalars[name]:
                    raise SystemExit("run %s: no scalar %s (has %s)" % (name, tag, sorted(scalars[name])))
            points = get(port, "/data/plugin/scalars/scalars", run=name, tag="epoch/test_accuracy")
            got = [p[2] for p in points]
            want = [float32(e["testAccuracy"]) for e in r["history"]]
            if got != want:
                raise SystemExit("run %s: epoch/test_accuracy %s, report.json %s" % (name, got, want))
            steps = [p[1] for p in points]
            if steps != sorted(set(steps)):
                raise SystemExit("run %s: steps %s are not each once, in order" % (name, steps))
            if not any(t.startswith("parameters/") for t in histograms.get(name, {})):
                raise SystemExit("run %s: no parameter histograms (%s)" % (name, histograms.get(name)))
            if "hparams" not in texts.get(name, []):
                raise SystemExit("run %s: no hparams text (%s)" % (name, texts.get(name)))
        landscape = [t for t in images.get("landscape", {}) if t.startswith("landscape/")]
        if not landscape:
            raise SystemExit("no landscape image in run landscape (%s)" % images)
        print("tensorboard %s read %d runs: scalars, histograms, text and the landscape image, test accuracy equal to "
              "report.json" % (subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip(),
                               len(expected)))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
