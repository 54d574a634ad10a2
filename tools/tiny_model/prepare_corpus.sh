#!/usr/bin/env bash
# Builds the training corpus of models/ingot-tiny from Debian's bible-kjv-text package: the King
# James Version (1611, public domain), one chapter per paragraph, verse numbers removed.
# Writes OUT_DIR/train.txt and OUT_DIR/valid.txt (every 20th chapter held out).
set -euo pipefail
out=${1:-build/tiny-corpus}
mkdir -p "$out"
if ! command -v bible >/dev/null 2>&1; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq bible-kjv bible-kjv-text
fi
bible -l0 "Gen1:1-Rev22:21" | python3 -c '
import re, sys
out_dir = sys.argv[1]
chapters, current = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        continue
    verse = re.match(r"^\s+\d+ (.*)$", line)
    if verse and current is not None:
        current[1].append(verse.group(1).strip())
    elif not line.startswith(" "):
        current = (line.strip(), [])
        chapters.append(current)
train, valid = [], []
for i, (title, verses) in enumerate(chapters):
    (valid if i % 20 == 19 else train).append(" ".join(verses))
open(f"{out_dir}/train.txt", "w").write("\n\n".join(train) + "\n")
open(f"{out_dir}/valid.txt", "w").write("\n\n".join(valid) + "\n")
print(f"{len(chapters)} chapters: {len(train)} train, {len(valid)} held out")
' "$out"
wc -c "$out"/train.txt "$out"/valid.txt
