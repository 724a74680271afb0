"""The demo's trainer: a linear softmax classifier (tensors W [classes, features] and b [classes])
trained by minibatch SGD on the task's train.csv, starting from the weights time-merge hands over.

time-merge runs it once per TIME step:
  python3 train.py --init INIT --task TASK --data DATA --previous IDS --replay P,C,B --out OUT --seed S --steps N
INIT holds the start weights (float32 safetensors); the expert goes to OUT with the same tensors.
DATA is the task's folder (data/<task>); several tasks (the multitask baseline) come as a JSON list.
Replay: each batch mixes the pretraining data (data/pretrain), the current task and the earlier tasks
(--previous) in the proportions P,C,B. Every random draw comes from --seed.
"""
import argparse
import json
import os

import numpy as np

import demo_safetensors

BATCH, LR = 32, 0.2


def load(folder, split):
    rows = np.loadtxt(os.path.join(folder, f"{split}.csv"), delimiter=",", skiprows=1, ndmin=2)
    return rows[:, 1:].astype(np.float32), rows[:, 0].astype(np.int64)


def main():
    p = argparse.ArgumentParser()
    for a in ["init", "task", "data", "previous", "replay", "out"]:
        p.add_argument(f"--{a}", default="")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    a = p.parse_args()
    current = json.loads(a.data) if a.data.startswith("[") else [a.data]
    root = os.path.dirname(os.path.normpath(current[0]))
    previous = [os.path.join(root, t) for t in a.previous.split(",") if t]
    share = dict(zip(["pretrain", "current", "buffer"], map(float, (a.replay or "0,1,0").split(","))))
    pools = {
        "pretrain": [load(os.path.join(root, "pretrain"), "train")],
        "current": [load(f, "train") for f in current],
        "buffer": [load(f, "train") for f in previous],
    }
    pools = {k: (np.concatenate([x for x, _ in v]), np.concatenate([y for _, y in v])) for k, v in pools.items() if v}
    kinds = [k for k in pools if share[k] > 0]
    weights = np.array([share[k] for k in kinds]) / sum(share[k] for k in kinds)

    w = demo_safetensors.read(a.init)
    W, b = w["W"].astype(np.float64), w["b"].astype(np.float64)
    rng = np.random.default_rng(a.seed)
    for _ in range(a.steps):
        counts = rng.multinomial(BATCH, weights)
        xs, ys = [], []
        for k, n in zip(kinds, counts):
            x, y = pools[k]
            pick = rng.integers(0, len(y), n)
            xs.append(x[pick])
            ys.append(y[pick])
        x, y = np.concatenate(xs), np.concatenate(ys)
        logits = x @ W.T + b
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        prob[np.arange(len(y)), y] -= 1  # the cross-entropy gradient with respect to the logits
        W -= LR * prob.T @ x / len(y)
        b -= LR * prob.mean(axis=0)
    demo_safetensors.write(a.out, {"W": W.astype(np.float32), "b": b.astype(np.float32)})
    print(json.dumps({"steps": a.steps}))  # the last stdout line: the optimiser steps taken


if __name__ == "__main__":
    main()
