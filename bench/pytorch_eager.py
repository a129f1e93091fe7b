#!/usr/bin/env python3
"""PyTorch-eager twin of `train bench`: examples/s of SGD steps of the 5x1000 tanh MLP
(1024 inputs, 9 classes, normalized init, lr 0.01) on the CPU, printed as JSON lines.

Variants: `default` is the idiomatic loop (opt.zero_grad(), which sets grads to None);
`tuned` keeps the gradient buffers (zero_grad(set_to_none=False)), so no step allocates
the 20 MB of gradients anew.
Needs a full torch install (see bench/README.md).
"""
import argparse
import json
import os
import time

import torch
from torch import nn

INPUTS, CLASSES, POOL = 1024, 9, 16


def model(hidden_layers, width):
    layers, fan_in = [], INPUTS
    for _ in range(hidden_layers):
        layers += [nn.Linear(fan_in, width), nn.Tanh()]
        fan_in = width
    layers.append(nn.Linear(fan_in, CLASSES))
    net = nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def time_steps(args, batch, variant):
    torch.manual_seed(0)
    net = model(args.hidden_layers, args.width)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    pool = [(torch.rand(batch, INPUTS) * 2 - 1, torch.randint(0, CLASSES, (batch,))) for _ in range(POOL)]
    set_to_none = variant == "default"

    def step(i):
        x, y = pool[i % POOL]
        opt.zero_grad(set_to_none=set_to_none)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        loss = step(i)
    seconds = time.perf_counter() - start
    assert torch.isfinite(loss).item(), "bench loss diverged"
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-sizes", default="10,128")
    parser.add_argument("--threads", default="1,0", help="comma list; 0 means all cores")
    parser.add_argument("--variants", default="default,tuned")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--hidden-layers", type=int, default=5)
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()
    for threads in (int(t) for t in args.threads.split(",")):
        threads = threads or os.cpu_count()
        torch.set_num_threads(threads)
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            for variant in args.variants.split(","):
                seconds = time_steps(args, batch, variant)
                print(json.dumps({
                    "impl": f"pytorch-eager-{variant}",
                    "batch_size": batch,
                    "threads": threads,
                    "steps": args.steps,
                    "seconds": seconds,
                    "examples_per_s": args.steps * batch / seconds,
                    "torch": torch.__version__,
                }), flush=True)


if __name__ == "__main__":
    main()
