#!/usr/bin/env python3
"""Exports a torchvision ImageNet backbone to ONNX for Faultline, with a manifest to go with it.

PatchCore's paper uses WideResNet-50-2 features from layer2 (stride 8) and layer3 (stride 16). This script cuts the
network after the deepest layer asked for, names each wanted block's output after the block, and writes:
  OUT_DIR/ID.onnx   the model (float32, dynamic batch, fixed 224 x 224 input)
  OUT_DIR/ID.json   the Faultline backbone manifest (digest, input, tensors with strides and channels)

Usage (needs torch, torchvision and onnx; a GPU is not needed):
  python3 scripts/export_torchvision_backbone.py --arch wide_resnet50_2 --layers layer2,layer3 --out-dir exported
Then copy ID.json into models/ and ID.onnx into the folder FAULTLINE_MODELS_DIR names, and train with
  npx faultline train DIR --out MODEL --backbone ID
"""
import argparse
import hashlib
import json
import os

import torch
import torchvision

STRIDES = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}


class Trunk(torch.nn.Module):
    """The ResNet stem and blocks up to the deepest wanted layer; returns the wanted layers' outputs."""

    def __init__(self, net, layers):
        super().__init__()
        self.stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        deepest = max(int(name[-1]) for name in layers)
        self.blocks = torch.nn.ModuleList(getattr(net, f"layer{i}") for i in range(1, deepest + 1))
        self.wanted = [int(name[-1]) - 1 for name in layers]

    def forward(self, x):
        x = self.stem(x)
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.wanted:
                outputs.append(x)
        return tuple(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="wide_resnet50_2", help="torchvision ResNet-family model name")
    parser.add_argument("--weights", default="DEFAULT", help="torchvision weights enum name (DEFAULT = best ImageNet)")
    parser.add_argument("--layers", default="layer2,layer3", help="comma-separated blocks: layer1..layer4")
    parser.add_argument("--id", help="manifest id (default: ARCH-LAYERS)")
    parser.add_argument("--out-dir", default="exported")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()

    layers = [name.strip() for name in args.layers.split(",") if name.strip()]
    for name in layers:
        if name not in STRIDES:
            parser.error(f"unknown layer {name}; use {', '.join(STRIDES)}")
    model_id = args.id or f"{args.arch}-{'-'.join(layers)}".replace("_", "-")
    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, f"{model_id}.onnx")

    net = getattr(torchvision.models, args.arch)(weights=args.weights).eval()
    trunk = Trunk(net, layers).eval()
    example = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        channels = [t.shape[1] for t in trunk(example)]
        torch.onnx.export(
            trunk, example, onnx_path, opset_version=args.opset, input_names=["input"], output_names=layers,
            dynamic_axes={"input": {0: "batch"}, **{name: {0: "batch"} for name in layers}},
        )

    with open(onnx_path, "rb") as f:
        data = f.read()
    manifest = {
        "id": model_id,
        "file": os.path.basename(onnx_path),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "licence": "BSD-3-Clause (torchvision code); check the licence of the weights you use",
        "source": f"torchvision.models.{args.arch}(weights={args.weights}), exported by scripts/export_torchvision_backbone.py",
        "input": {"name": "input", "size": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "tensors": [
            {"tensor": name, "stride": STRIDES[name], "channels": int(c), "block": name} for name, c in zip(layers, channels)
        ],
        "defaultLayers": layers,
    }
    manifest_path = os.path.join(args.out_dir, f"{model_id}.json")
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {onnx_path} ({len(data)} bytes, sha256 {manifest['sha256']}) and {manifest_path}")


if __name__ == "__main__":
    main()
