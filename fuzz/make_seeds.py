#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets to fuzz/seeds/<target>/ (committed; small).

    python3 fuzz/make_seeds.py [RUN_DIR ...]

Each RUN_DIR (a folder written by `recur train --out`) becomes a `run_dir` seed and its
model.safetensors a `safetensors` seed. The other seeds are made here: small valid files,
CRLF line ends, blank lines, a byte-order mark, bytes that are not UTF-8, and safetensors
headers that lie about offsets and shapes. No third-party modules needed.
"""
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] -> a valid file."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    return raw_safetensors(header, b"".join(blobs))


def raw_safetensors(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def f32(*xs):
    return struct.pack("<%df" % len(xs), *xs)


def parts(*chunks):
    """The run_dir target's input: length-prefixed parts, the last one without a length."""
    out = b""
    for c in chunks[:-1]:
        out += struct.pack("<I", len(c)) + c
    return out + chunks[-1]


def tiny_config(cell="rnn", v=3, d=2, h=2, layers=1, tie=False):
    return json.dumps({
        "model": {"cell": cell, "vocab_size": v, "embed_size": d, "hidden_size": h,
                  "num_layers": layers, "dropout": 0.0, "tie_weights": tie, "init": "book",
                  "init_scale": 0.1},
        "tokenizer": "whitespace",
    }, indent=2).encode()


def tiny_model(gates=1, v=3, d=2, h=2, layers=1, tie=False):
    ts = [("encoder.weight", "F32", [v, d], f32(*[0.1] * (v * d)))]
    for k in range(layers):
        i = d if k == 0 else h
        ts += [
            (f"rnn.weight_ih_l{k}", "F32", [gates * h, i], f32(*[0.2] * (gates * h * i))),
            (f"rnn.weight_hh_l{k}", "F32", [gates * h, h], f32(*[0.3] * (gates * h * h))),
            (f"rnn.bias_ih_l{k}", "F32", [gates * h], f32(*[0.0] * (gates * h))),
            (f"rnn.bias_hh_l{k}", "F32", [gates * h], f32(*[0.0] * (gates * h))),
        ]
    ts += [("decoder.weight", "F32", [v, h], f32(*[0.1] * (v * h))) if not tie else
           ("decoder.weight", "F32", [v, d], f32(*[0.1] * (v * d))),
           ("decoder.bias", "F32", [v], f32(*[0.0] * v))]
    return safetensors(ts, {"format": "pt"})


def main():
    # --- text readers -------------------------------------------------------------------------
    text = " the cat sat on the mat \n the dog sat \n <unk> ran away \n"
    put("ptb_text", "valid", text)
    put("ptb_text", "crlf", text.replace("\n", "\r\n"))
    put("ptb_text", "blank_lines", "\n\n the cat \n\n\n sat \n")
    put("ptb_text", "bom", "\ufeffHello, World. It's (a) test!\n")
    put("ptb_text", "not_utf8", b"the cat\nsat \xff\xfe on\n")
    put("ptb_text", "utf16", "the cat\n".encode("utf-16"))
    demo = os.path.join(os.path.dirname(ROOT), "..", "src", "data", "demo_corpus.txt")
    put("ptb_text", "demo_head", open(demo, "rb").read()[:2000])

    put("vocab", "valid", "<eos>\nthe\ncat\n<unk>\n")
    put("vocab", "crlf", "<eos>\r\nthe\r\ncat\r\n")
    put("vocab", "blank_line", "<eos>\n\nthe\n")
    put("vocab", "duplicate", "a\nb\na\n")
    put("vocab", "not_utf8", b"a\n\xc3\x28\n")

    tsv = "I loved it\t1\nterrible film\t0\n\nok, fine\tneutral\n"
    put("tsv", "valid", tsv)
    put("tsv", "crlf", tsv.replace("\n", "\r\n"))
    put("tsv", "no_tab", "just text\n")
    put("tsv", "tabs", "a\tb\tc\n\t1\nx\t\n")
    put("tsv", "not_utf8", b"good\t1\nbad \xe9\t0\n")

    csv = 'Date,Temp\n1981-01-01,20.7\n1981-01-02,17.9\n\n"1981-01-03","18.8"\n'
    put("csv", "valid", csv)
    put("csv", "crlf_bom", "\ufeff" + csv.replace("\n", "\r\n"))
    put("csv", "value", "date,value,other\n1,2,3\n2,nan,4\n3,,5\n")
    put("csv", "quotes", 'a,"b,""c"""\n1,"2\n')
    put("csv", "not_utf8", b"date,value\n1,\xff\n")

    pairs = "16+75\t91\n52+607\t659\n\n75+22\t97\n"
    put("pairs", "valid", pairs)
    put("pairs", "crlf", pairs.replace("\n", "\r\n"))
    put("pairs", "bad", "a\tb\tc\n\tx\ny\t\nno tab\n")
    put("pairs", "not_utf8", b"1+1\t2\n\x80\t3\n")

    # --- config.json / metrics.jsonl ----------------------------------------------------------
    put("config_json", "tiny", tiny_config())
    put("config_json", "metrics", '{"epoch":1,"train_ppl":346.5,"seconds":0.02,"tokens_per_s":66768.2,"lr":0.1}\n\n')
    put("config_json", "huge_sizes", tiny_config(v=2**62, d=2**40, h=2**40, layers=2**40))
    put("config_json", "not_utf8", b'{"model": "\xff"}')

    # --- safetensors ---------------------------------------------------------------------------
    put("safetensors", "tiny_f32", safetensors([("a", "F32", [2, 2], f32(1, 2, 3, 4)),
                                                ("b", "F32", [], f32(5))]))
    put("safetensors", "tiny_f64", safetensors([("a", "F64", [3], struct.pack("<3d", 1, 2, 3))]))
    put("safetensors", "i32", safetensors([("a", "I32", [1], struct.pack("<i", 7))]))
    put("safetensors", "lying_offsets",
        raw_safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 1 << 40]}}, f32(1, 2)))
    put("safetensors", "gap_offsets",
        raw_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, f32(1, 2)))
    put("safetensors", "huge_shape",
        raw_safetensors({"a": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 8]}}, f32(1, 2)))
    put("safetensors", "huge_empty_shape",
        raw_safetensors({"a": {"dtype": "F32", "shape": [1 << 40, 0, 1 << 40], "data_offsets": [0, 0]}}, b""))
    put("safetensors", "header_too_long", struct.pack("<Q", 1 << 62) + b"{}")
    put("safetensors", "tiny_model", tiny_model())

    # --- run directories -----------------------------------------------------------------------
    vocab = b"a\nb\n<eos>\n"
    put("run_dir", "tiny_rnn", parts(tiny_config(), vocab, tiny_model()))
    put("run_dir", "tiny_gru", parts(tiny_config("gru"), vocab, tiny_model(gates=3)))
    put("run_dir", "tiny_lstm2_tied", parts(tiny_config("lstm", d=2, h=2, layers=2, tie=True), vocab,
                                            tiny_model(gates=4, layers=2, tie=True)))
    put("run_dir", "config_mismatch", parts(tiny_config(h=3), vocab, tiny_model()))
    put("run_dir", "huge_config", parts(tiny_config(h=1 << 40, layers=1 << 30), vocab, tiny_model()))
    for run in sys.argv[1:]:
        name = os.path.basename(os.path.normpath(run))
        read = lambda f: open(os.path.join(run, f), "rb").read()
        put("run_dir", "real_" + name, parts(read("config.json"), read("vocab.txt"), read("model.safetensors")))
        put("safetensors", "real_" + name, read("model.safetensors"))
        put("config_json", "real_" + name, read("config.json"))
        put("config_json", "real_metrics_" + name, read("metrics.jsonl"))
        put("vocab", "real_" + name, read("vocab.txt"))


if __name__ == "__main__":
    main()
