"""Texture hashing: `manage.py evaluate texture` (Table 1 of the TSN + DSDH paper)."""

from retrieval.core.evaluation import register_evaluation
from retrieval.texture import evaluation

TASK = register_evaluation(evaluation.TASK)
