"""Makes recur's built-in word vectors from Stanford's GloVe 6B, 50 dimensions.

    python3 assets/make_glove.py glove.6B.50d.txt 50000

reads `glove.6B.50d.txt` (from glove.6B.zip; most frequent words first) and writes, beside this
script, its first N words:
    glove.6B.50d.50k.words  one word a line, in the file's order
    glove.6B.50d.50k.f16    their vectors, N x 50 IEEE half-precision numbers, little-endian
`recur::data::vectors::WordVectors::builtin` embeds both in the binary. Half precision halves
the size (5 MB for 50,000 words); its 3 significant digits are plenty for a starting point that
training then moves. Only the standard library is needed.
"""
import os
import struct
import sys


def main(path, count):
    here = os.path.dirname(os.path.abspath(__file__))
    stem = os.path.join(here, "glove.6B.50d.%dk" % (count // 1000))
    words, values = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(" ")
            if len(fields) != 51:
                sys.exit("%s: a line with %d fields; expected a word and 50 numbers" % (path, len(fields)))
            words.append(fields[0])
            values.extend(float(x) for x in fields[1:])
            if len(words) == count:
                break
    if len(set(words)) != len(words):
        sys.exit("%s: a word repeats among the first %d" % (path, count))
    with open(stem + ".words", "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in words))
    with open(stem + ".f16", "wb") as f:
        f.write(struct.pack("<%de" % len(values), *values))
    print("wrote %d words to %s.words and .f16" % (len(words), stem))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
