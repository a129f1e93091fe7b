#!/usr/bin/env python3
"""JAX anchor for `train-pack bench`: model-updates/s of a jit-compiled SGD step of the same
net (1024-5x1000 tanh-9, normalized init, lr 0.01, batch 10, fp32) with donated parameter
buffers, on the CPU, printed as JSON lines. K=1 is the plain step (what a speed-minded user
would write); K>1 is the same step under jax.vmap, JAX's own way of packing models.

Run it pinned (`taskset -c 0`): XLA otherwise spreads over every core whatever its flags say.
"""
import argparse
import json
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

INPUTS, CLASSES, POOL = 1024, 9, 8


def init(key, hidden_layers, width):
    sizes = [INPUTS] + [width] * hidden_layers + [CLASSES]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        bound = (6.0 / (fan_in + fan_out)) ** 0.5
        w = jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -bound, bound)
        params.append((w, jnp.zeros((fan_out,), jnp.float32)))
    return params


def loss(params, x, y):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    logp = jax.nn.log_softmax(h @ w + b)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def sgd(params, x, y, lr=0.01):
    value, grads = jax.value_and_grad(loss)(params, x, y)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), value


def time_pack(args, k):
    keys = jax.random.split(jax.random.PRNGKey(0), k)
    if k == 1:
        params = init(keys[0], args.hidden_layers, args.width)
        step = jax.jit(sgd, donate_argnums=0)
        shape = (args.batch_size,)
    else:
        params = jax.vmap(lambda key: init(key, args.hidden_layers, args.width))(keys)
        step = jax.jit(jax.vmap(sgd), donate_argnums=0)
        shape = (k, args.batch_size)
    data_key = jax.random.PRNGKey(99)
    pool = []
    for _ in range(POOL):
        data_key, kx, ky = jax.random.split(data_key, 3)
        pool.append((jax.random.uniform(kx, shape + (INPUTS,), jnp.float32, -1, 1),
                     jax.random.randint(ky, shape, 0, CLASSES)))
    steps = max(args.model_updates // k, args.min_steps)
    for i in range(args.warmup):
        params, value = step(params, *pool[i % POOL])
    jax.block_until_ready(params)
    start = time.perf_counter()
    for i in range(steps):
        params, value = step(params, *pool[i % POOL])
    jax.block_until_ready((params, value))
    seconds = time.perf_counter() - start
    assert bool(jnp.all(jnp.isfinite(value))), "bench loss diverged"
    return steps, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packs", default="1,4,16,64")
    parser.add_argument("--model-updates", type=int, default=600)
    parser.add_argument("--min-steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--hidden-layers", type=int, default=5)
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()
    for k in (int(p) for p in args.packs.split(",")):
        steps, seconds = time_pack(args, k)
        print(json.dumps({
            "impl": "jax-jit", "device": "cpu", "k": k, "batch_size": args.batch_size,
            "steps": steps, "seconds": seconds,
            "model_updates_per_s": k * steps / seconds,
            "examples_per_s": k * steps * args.batch_size / seconds,
            "jax": jax.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()
