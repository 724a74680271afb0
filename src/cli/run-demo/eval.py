"""The demo's evaluator: the accuracy of the classifier in --weights on each task's test.csv.

time-merge runs it after every TIME step:  python3 eval.py --weights W --tasks ID,ID,... --data JSON
--data is a JSON list of the tasks' folders in the order of --tasks. The last stdout line is the JSON
answer: {task id: score in [0, 1]}.
"""
import argparse
import json
import os

import numpy as np

import demo_safetensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--data", required=True)
    a = p.parse_args()
    w = demo_safetensors.read(a.weights)
    scores = {}
    for task, folder in zip(a.tasks.split(","), json.loads(a.data)):
        rows = np.loadtxt(os.path.join(folder, "test.csv"), delimiter=",", skiprows=1, ndmin=2)
        predicted = np.argmax(rows[:, 1:] @ w["W"].T + w["b"], axis=1)
        scores[task] = float(np.mean(predicted == rows[:, 0]))
    print(json.dumps(scores))


if __name__ == "__main__":
    main()
