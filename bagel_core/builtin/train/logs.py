"""How much the libraries of training (transformers, datasets, torch, DeepSpeed) print: shared
by the trainers and ``bagel merge``; torch, transformers and datasets are imported inside."""

from __future__ import annotations

#: Whether the trainer shows its progress bar; set by :func:`quiet_logs`, read where trl's
#: arguments are built.
PROGRESS = {"bar": True}


def quiet_logs(verbose: int, quiet: bool = False) -> None:
    """Only warnings that matter by default, and the trainer's progress bar (ETA) unless
    ``quiet``; ``-v`` restores the libraries' info logs and progress bars (the metrics of each
    logging step always show)."""
    import logging
    import os
    import warnings

    PROGRESS["bar"] = not quiet
    import torch

    if not verbose and not torch.cuda.is_available():
        # What DeepSpeed would pick anyway, named: it then skips its "Setting accelerator to CPU" warning.
        os.environ.setdefault("DS_ACCELERATOR", "cpu")

    import datasets
    import transformers

    if verbose:
        transformers.logging.set_verbosity_info()
        transformers.logging.enable_progress_bar()
        datasets.logging.set_verbosity_info()
        datasets.enable_progress_bars()
        return
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Writing model shards"...; Trainer's own bar stays
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    for name in ("torch", "DeepSpeed", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
