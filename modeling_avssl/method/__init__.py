"""The paper's training method: the trainer and its step, the loss terms, the masks, the thresholds, the teacher,
the test protocol, and what of them a checkpoint keeps."""
