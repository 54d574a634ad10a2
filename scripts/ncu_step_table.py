#!/usr/bin/env python3
"""Per-kernel time of one decode step from an `ncu --csv --metrics gpu__time_duration.sum,
dram__bytes_read.sum` log (scripts/decode-check.sh): kernels between the first and the last
embed launch, grouped by name and grid, time and DRAM bytes per step, achieved GB/s."""
import csv
import re
import sys

SCALE = {"nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1.0,
         "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0,
         "byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9,
         "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}


def short(name):
    name = re.sub(r"^void ", "", name)
    name = name.replace("ingot::cuda::", "").replace("(anonymous namespace)::", "")
    name = name.replace("matvec::", "").replace("ingot::quant::Type", "T")
    depth, cut = 0, len(name)
    for i, c in enumerate(name):  # drop the parameter list
        if c == "<": depth += 1
        elif c == ">": depth -= 1
        elif c == "(" and depth == 0:
            cut = i
            break
    return name[:cut]


def main(path):
    lines = [l for l in open(path, errors="replace") if l.startswith('"')]
    launches = {}
    for row in csv.DictReader(lines):
        try:
            i = int(row["ID"])
        except (KeyError, ValueError):
            continue
        k = launches.setdefault(i, {"name": short(row["Kernel Name"]), "grid": row.get("Grid Size", "")})
        unit = row.get("Metric Unit", "")
        value = float(row["Metric Value"].replace(",", "")) * SCALE.get(unit, 1)
        k[row["Metric Name"]] = value
    ids = sorted(launches)
    embeds = [i for i in ids if "embed" in launches[i]["name"]]
    if len(embeds) < 2:
        print(f"{len(ids)} launches, fewer than two embed launches: no whole step")
        return
    steps = len(embeds) - 1
    table = {}
    for i in ids:
        if embeds[0] <= i < embeds[-1]:
            k = launches[i]
            t = table.setdefault((k["name"], k["grid"]), [0, 0.0, 0.0])
            t[0] += 1
            t[1] += k.get("gpu__time_duration.sum", 0.0)
            t[2] += k.get("dram__bytes_read.sum", 0.0)
    total = sum(v[1] for v in table.values()) / steps
    print(f"{steps} decode steps; kernel time per step {total * 1e3:.3f} ms")
    print("| kernel | grid | launches/step | us/step | % | MB read/step | GB/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (name, grid), (n, t, b) in sorted(table.items(), key=lambda kv: -kv[1][1]):
        gbs = b / t / 1e9 if t > 0 else 0
        print(f"| {name} | {grid} | {n / steps:.0f} | {t / steps * 1e6:.1f} | {100 * t / steps / total:.1f} "
              f"| {b / steps / 1e6:.1f} | {gbs:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
