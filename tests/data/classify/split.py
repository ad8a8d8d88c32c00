#!/usr/bin/env python3
"""The development / held-out splits of deskgate's classification sets.

  split.py assign CORPORA   once, before any rule was written: draw the splits
                            with a fixed seed and write zh-split.tsv and
                            banking77-heldout.txt (both committed; never redrawn)
  split.py write CORPORA OUT
                            write OUT/{zh,banking77}-{dev,heldout}.csv from the
                            committed split files, for `deskgate rules eval`

CORPORA is the shared corpora folder (classify/banking77/train.csv in it).
Rules are written looking only at the *-dev sets; the *-heldout sets are only
ever scored (see README.md).
"""
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 16  # issue 16
ZH = os.path.join(HERE, "zh-support.csv")
ZH_SPLIT = os.path.join(HERE, "zh-split.tsv")
B77_HELDOUT = os.path.join(HERE, "banking77-heldout.txt")


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def b77_path(corpora):
    return os.path.join(corpora, "classify", "banking77", "train.csv")


def stratified(keys_by_label, fraction, rng):
    """The held-out keys: round(fraction * n) of each label, drawn by rng."""
    out = set()
    for label in sorted(keys_by_label):
        keys = sorted(keys_by_label[label])
        rng.shuffle(keys)
        out.update(keys[: round(len(keys) * fraction)])
    return out


def assign(corpora):
    rng = random.Random(SEED)
    _, zh = read_csv(ZH)
    by = {}
    for r in zh:
        by.setdefault(r[2], []).append(r[0])
    held = stratified(by, 0.5, rng)  # halves
    with open(ZH_SPLIT, "w", encoding="utf-8") as f:
        f.write("id\tsplit\n")
        for r in zh:
            f.write("%s\t%s\n" % (r[0], "heldout" if r[0] in held else "dev"))
    _, b77 = read_csv(b77_path(corpora))
    by = {}
    for i, r in enumerate(b77, 1):
        by.setdefault(r[1], []).append(i)
    held = stratified(by, 0.2, rng)  # one fold of five
    with open(B77_HELDOUT, "w", encoding="utf-8") as f:
        f.write("# banking77 train.csv records (1 = first after the header) held out; seed %d\n" % SEED)
        for i in sorted(held):
            f.write("%d\n" % i)


def write(corpora, out):
    os.makedirs(out, exist_ok=True)
    split = {}
    with open(ZH_SPLIT, encoding="utf-8") as f:
        next(f)
        for line in f:
            k, v = line.split()
            split[k] = v
    header, zh = read_csv(ZH)
    if sorted(split) != sorted(r[0] for r in zh):
        sys.exit("split.py: zh-split.tsv does not cover zh-support.csv")
    for part in ("dev", "heldout"):
        with open(os.path.join(out, "zh-%s.csv" % part), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["text", "label", "id"])
            for r in zh:
                if split[r[0]] == part:
                    w.writerow([r[3], r[2], r[0]])
    held = set()
    with open(B77_HELDOUT, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                held.add(int(line))
    header, b77 = read_csv(b77_path(corpora))
    for part in ("dev", "heldout"):
        with open(os.path.join(out, "banking77-%s.csv" % part), "w", encoding="utf-8",
                  newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for i, r in enumerate(b77, 1):
                if (i in held) == (part == "heldout"):
                    w.writerow(r)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "assign":
        assign(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
