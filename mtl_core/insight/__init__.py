"""Insight: small worked problems that show what a weighting strategy does, with the same code as training.

``toy`` is the two-task landscape of Liu et al., 2021, "Conflict-Averse Gradient Descent for Multi-task
Learning" (CAGrad, NeurIPS), §5, reused by Nash-MTL (Navon et al., 2022) and FAMO (Liu et al., 2023):
every strategy starts from the same points and its path is recorded (``mtl_core.insight.toy.race``).
``toy_cli`` adds ``python -m mtl_core toy``. Nothing is imported here, so the command line can add its
sub-command without loading PyTorch.
"""
