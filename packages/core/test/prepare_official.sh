#!/bin/bash
# Copies the few official PerFRDiff files that make_parity_fixtures.py and bench_official.py need into a git-ignored folder
# (never committed: their code stays theirs), plus empty package markers and two tiny stubs for imports the
# modules pull in but the parity run does not use (beartype decorators, utils.util.checkpoint_load).
# usage: prepare_official.sh /path/to/PerFRDiff.git [dest=.device/core/official]
set -euo pipefail
repo=$1
dest=${2:-.device/core/official}
rm -rf "$dest"
files="model/diffusion/diffusion_decoder/transformer_denoiser.py model/diffusion/operator/embeddings.py
model/diffusion/operator/position_encoding.py model/diffusion/operator/cross_attention.py
model/diffusion/diffusion_prior/transformer_prior.py model/diffusion/diffusion_prior/rotary_embedding_torch.py
model/diffusion/utils/util.py model/person_specific/PersonSpecificEncoder.py model/diffusion/rnn.py
model/diffusion/torch.py model/modifier/network.py configs/rewrite_weight.yaml
model/diffusion/gaussian_diffusion.py model/diffusion/resample.py model/diffusion/utils/losses.py
configs/diffusion_model.yaml"
for f in $files; do
  mkdir -p "$dest/$(dirname "$f")"
  git -C "$repo" show "HEAD:$f" > "$dest/$f"
done
for d in model model/diffusion model/diffusion/diffusion_decoder model/diffusion/diffusion_prior model/diffusion/operator \
         model/diffusion/utils model/person_specific model/modifier utils; do
  mkdir -p "$dest/$d"; : > "$dest/$d/__init__.py"
done
echo 'def checkpoint_load(*args, **kwargs): raise RuntimeError("not used in parity runs")' > "$dest/utils/util.py"
mkdir -p "$dest/beartype"
echo 'def beartype(f): return f' > "$dest/beartype/__init__.py"
echo 'from typing import *' > "$dest/beartype/typing.py"
git -C "$repo" rev-parse HEAD > "$dest/COMMIT"
