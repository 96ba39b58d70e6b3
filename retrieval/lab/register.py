"""The descriptor lab's registrations: its evaluation task (the query page is not built yet)."""

from retrieval.core.evaluation import register_evaluation
from retrieval.lab import evaluation

TASK = register_evaluation(evaluation.TASK)
