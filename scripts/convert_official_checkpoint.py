#!/usr/bin/env python3
"""Convert a released BT-Adapter checkpoint (mmengine .pth) to safetensors, once, in Python.

The released `pretrain_btadapter_weight.pth` is an mmengine checkpoint whose `meta` and `message_hub`
pickle training-framework objects that LibTorch cannot unpickle. This script keeps only the tensors of
`state_dict` (keys unchanged: `backbone.*`, `text_backbone.*`, `extra_proj.*`; libbtadapter applies the
`module.` / `timesFPN` renames itself) and writes them as safetensors, which `bt_export --import` and
every libbtadapter tool read.

Usage (in an environment where mmengine and torch are installed, i.e. where the official code runs):
    python3 scripts/convert_official_checkpoint.py pretrain_btadapter_weight.pth btadapter_official.safetensors
"""
import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="official .pth (mmengine) or .bin/.pt state dict")
    parser.add_argument("output", help="output .safetensors file")
    args = parser.parse_args()

    import torch  # imported late so that --help works anywhere

    checkpoint = torch.load(args.checkpoint, map_location="cpu")
    state_dict = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        print(f"{args.checkpoint}: expected a dict of tensors or a dict with 'state_dict'", file=sys.stderr)
        return 1
    tensors = {k: v.detach().clone().contiguous() for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    skipped = sorted(k for k, v in state_dict.items() if not isinstance(v, torch.Tensor))
    if skipped:
        print(f"skipping {len(skipped)} non-tensor entries: {skipped[:5]}...", file=sys.stderr)

    from safetensors.torch import save_file

    tmp = args.output + ".tmp"
    save_file(tensors, tmp, metadata={"source": os.path.basename(args.checkpoint)})
    os.replace(tmp, args.output)
    print(f"wrote {len(tensors)} tensors to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
