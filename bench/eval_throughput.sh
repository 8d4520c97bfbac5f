#!/usr/bin/env bash
# Evaluation throughput: bt_eval_retrieval (decode + encode + metrics) on synthetic 224 px clips with a
# randomly initialised ViT-B/16-sized BT-Adapter (depth 4), written by one bt_pretrain step. Prints one
# JSON object: videos per second over the evaluation (decode, encode, texts, metrics; model loading
# apart) and the share of that time spent waiting for decoded videos.
#   bench/eval_throughput.sh [BUILD_DIR] [WORK_DIR]    (defaults: build, a fresh temporary folder)
#   VIDEOS=24 FRAMES=8 bench/eval_throughput.sh ...     (test videos, frames per video)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=${2:-$(mktemp -d)}
videos=${VIDEOS:-24} frames=${FRAMES:-8}
mkdir -p "$work" && cd "$work"

[ -e data/test.json ] || "$build/bt_make_synthetic" --out data --train 2 --test "$videos" --frames 16 --size 224 >&2
if [ ! -e vitb16/model.safetensors ]; then
  cat > vitb16.yaml <<YAML
model:
  clip: ""
  random_clip: true
  tokenizer:
    vocab: $root/tests/fixtures/tokenizer/bpe_simple_vocab_16e6.txt.gz
    truncate: "official:32"
data:
  format: webvid
  annotations: data/train.csv
  video_root: data/videos
  batch_size: 2
  num_workers: 1
schedule:
  max_steps: 1
run:
  output_dir: vitb16
  device: cpu
eval:
  at_end: false
YAML
  "$build/bt_pretrain" --config vitb16.yaml >&2
fi

start=$(date +%s.%N)
"$build/bt_eval_retrieval" -m vitb16/model.safetensors -d msrvtt -a data/test.json -r data/test_videos \
  --frames "$frames" --no-verify -q -o result.json >&2
end=$(date +%s.%N)
python3 - "$start" "$end" "$videos" "$frames" result.json <<'PY'
import json, sys
start, end, videos, frames, path = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
timing = json.load(open(path))["config"]
total, encode, wait = timing["total_seconds"], timing["encode_seconds"], timing["decode_wait_seconds"]
print(json.dumps({"benchmark": "eval_throughput", "model": "ViT-B/16 + BT-Adapter depth 4 (random)",
                  "videos": videos, "frames": frames, "size": 224,
                  "process_wall_s": round(end - start, 2),  # with loading the model
                  "eval_s": round(total, 2), "encode_videos_s": round(encode, 2),
                  "videos_per_s": round(videos / total, 3),
                  "decode_wait_s": round(wait, 3), "decode_wait_fraction": round(wait / total, 4)}))
PY
