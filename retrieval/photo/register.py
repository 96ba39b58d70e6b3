"""Shop photos have no query kind of their own (they are image queries): only their evaluation."""

from retrieval.core.evaluation import register_evaluation
from retrieval.photo import evaluation

TASK = register_evaluation(evaluation.TASK)
