"""time-merge's PyTorch CLIP engine: the model, training, evaluation and the JSON-lines worker."""
