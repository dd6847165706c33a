"""Reference values for packages/core/src/training/sgd.test.ts: torch.optim.SGD with momentum and weight decay (the
official PWSG optimiser's settings, lr scaled up so that steps are visible) on two small parameters over four steps,
one step without a gradient for the second parameter (torch skips it: its momentum buffer stays as it was).
Run where torch is installed (the device has it): python3 sgd_reference.py OUT.json"""
import json
import sys

import torch

P1 = [[0.5, -1.25, 2.0], [0.0, 3.0, -0.75]]
P2 = [1.5, -2.0, 0.25, 4.0]
GRADS = [  # per step: gradient of p1, of p2 (None: no gradient)
    ([[0.1, -0.2, 0.3], [1.0, -0.5, 0.0]], [2.0, 0.5, -1.0, 0.01]),
    ([[-0.3, 0.2, 0.1], [0.5, 0.5, -2.0]], None),
    ([[0.05, 0.0, -0.4], [-1.0, 0.25, 0.75]], [-0.5, 1.5, 0.0, -3.0]),
    ([[1e-4, -3.0, 0.2], [0.0, 0.0, 1.0]], [0.1, -0.1, 0.2, 0.3]),
]
OPTIONS = dict(lr=0.1, momentum=0.9, weight_decay=0.05)

p1 = torch.tensor(P1, dtype=torch.float32, requires_grad=True)
p2 = torch.tensor(P2, dtype=torch.float32, requires_grad=True)
opt = torch.optim.SGD([p1, p2], foreach=False, **OPTIONS)
steps = []
for g1, g2 in GRADS:
    p1.grad = torch.tensor(g1, dtype=torch.float32)
    p2.grad = None if g2 is None else torch.tensor(g2, dtype=torch.float32)
    opt.step()
    steps.append({"p1": p1.detach().tolist(), "p2": p2.detach().tolist()})
json.dump({"torch": torch.__version__, "options": OPTIONS, "p1": P1, "p2": P2,
           "grads": [[g1, g2] for g1, g2 in GRADS], "after_step": steps}, open(sys.argv[1], "w"), indent=1)
