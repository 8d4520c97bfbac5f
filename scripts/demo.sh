#!/usr/bin/env bash
# The embedded default: BT-Adapter's central claim at toy scale, with nothing downloaded.
#   scripts/demo.sh [OUTPUT_DIR]        (default: demo-output beside the clone; BUILD_DIR, JOBS as in test.sh)
# Stages (each reused when a second run finds it finished):
#   1. bt_make_synthetic: real H.264 videos of coloured shapes moving in stated directions, with
#      time-reversed pairs in the test set (WebVid CSV + MSR-VTT JSON)
#   2. bt_train_tokenizer: a SentencePiece vocabulary on the training captions
#   3. bt_pretrain configs/demo_clip.yaml: a tiny CLIP, image-text style on first frames (VTC only)
#   4. bt_pretrain configs/demo_adapter.yaml: BT-Adapter with that CLIP frozen (masking, three losses)
#   5. bt_eval_retrieval twice (frozen CLIP with frame mean-pooling, BT-Adapter) and one table, with
#      direction accuracy: how often a caption prefers its own video over the time-reversed twin
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/demo-output}" && cd "${1:-$root/demo-output}" && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
start=$(date +%s)
say() { echo "[demo $(( $(date +%s) - start ))s] $*"; }

say "set-up: packages, configure, build the tools"
"$root/scripts/install_deps.sh"
"$root/scripts/configure.sh" "$root" "$build" > /dev/null
cmake --build "$build" -j "$jobs" --target bt_make_synthetic bt_train_tokenizer bt_pretrain bt_eval_retrieval \
  bt_compare_results bt_plot_log
# Two cores: one torch thread per process leaves the other core to the decoding workers.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
cd "$out"

# Runs "$@" unless the stage's marker says it finished before.
stage() {
  local name=$1; shift
  if [ -e ".done-$name" ]; then say "$name: finished before, reused"; return; fi
  say "$name"
  "$@"
  touch ".done-$name"
}

stage data "$build/bt_make_synthetic" --out data --train 384 --test 64 --frames 16 --size 64 --seed 0
stage tokenizer "$build/bt_train_tokenizer" --annotations data/train.csv --format webvid --vocab-size 256 \
  --model-type bpe --out tokenizer/spm.model
stage clip "$build/bt_pretrain" --config "$root/configs/demo_clip.yaml"
stage adapter "$build/bt_pretrain" --config "$root/configs/demo_adapter.yaml"

evaluate() {  # name model
  "$build/bt_eval_retrieval" -m "$2" --vocab tokenizer/spm.model -d msrvtt --frames 8 --truncate openai \
    -a data/test.json -r data/test_videos --direction data/direction.json -o "eval/$1.json" "${@:3}"
}
stage eval-clip evaluate clip clip/model.safetensors
stage eval-adapter evaluate btadapter adapter/model.safetensors --html eval/report.html
"$build/bt_plot_log" --log adapter/train_log.jsonl --panel "BT-Adapter losses:vtc,mbca,mbta" \
  --panel "validation R@1:val_t2v_r1,val_v2t_r1" --out curves.png > /dev/null

echo
echo "Synthetic moving shapes, $(grep -c mp4 data/test.json) test videos (direction: caption vs its time-reversed video; chance 50)"
"$build/bt_compare_results" "frozen CLIP (mean of frames)=eval/clip.json" "BT-Adapter=eval/btadapter.json"
echo
say "done; training curves: $out/curves.png; retrieval report: $out/eval/report.html"
