"""Reads an agnostic-sam checkpoint with Python's standard library only (docs/checkpoints.md).

python3 read_checkpoint.py FILE prints the metadata as JSON, then one line per tensor: its name,
its shape as JSON and its values, separated by tabs.
"""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read()
(n,) = struct.unpack("<Q", data[:8])  # header length: unsigned 64-bit little-endian
header = json.loads(data[8 : 8 + n])  # tensors by name; __metadata__ holds strings only
print("__metadata__\t" + json.dumps(header.pop("__metadata__")))
for name, t in header.items():
    begin, end = t["data_offsets"]  # counted from the end of the header
    code = {"F32": "f", "F64": "d"}[t["dtype"]]
    count = (end - begin) // struct.calcsize(code)
    values = struct.unpack("<%d%s" % (count, code), data[8 + n + begin : 8 + n + end])
    print("\t".join([name, json.dumps(t["shape"]), " ".join(map(repr, values))]))
