"""The training loop and what it records: trainer, recorder, history, snapshots, k-fold, capacity, calibration."""
