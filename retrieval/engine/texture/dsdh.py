"""The DSDH objective (Li et al. 2017) and the DPSH variant, on plain tensors.

Rows are samples: U [N, K] network outputs in (-1, 1), B [N, K] codes in {-1, +1}, Y [N, C]
one-hot labels, W [K, C] the linear classifier on the codes. DSDH minimises
    pairwise likelihood (Theta = 1/2 U U^T, similar pairs pulled together)
    + mu ||Y - B W||^2 + nu ||W||^2 + eta ||B - U||^2
alternately: U by back-propagation (likelihood + eta ||B - U||^2), W by ridge regression,
B by discrete cyclic coordinate descent (one bit column at a time, in closed form).
Official settings: eta 55, mu 1, nu 0.1. DPSH: the likelihood + lambda ||sign(u) - u||^2.

The terms are sums, as in the authors' code (eta 55 is set against a likelihood summed over
all pairs), divided by the batch size so the step size does not depend on it.

Why the trainer's classifier weight is ``MU_SCALED``, not the authors' 1: in the B-step
P = Y W^T + (eta / mu) U, and the ridge classifier on {-1, +1} codes has entries of about
1 / K, so with mu = 1 the classifier's pull on B is thousands of times weaker than eta's and
B becomes sign(U): the network is then trained towards its own mistakes, and with 171 classes
(1 similar pair in 171) the likelihood alone lets B drift away from the classes. Measured on
the first 40 textures, plain CNN, 64 bits, 12 epochs: mu = 1 peaks at mAP 0.68 (epoch 3) and
ends at 0.64 as B's training accuracy falls from 0.85 to 0.75; mu = 1e4 keeps B's accuracy at
1.0 and ends at 0.815. (1e5 gave the same codes as 1e4: the classifier already decides B.)
"""

import torch
import torch.nn.functional as F

ETA, MU, NU = 55.0, 1.0, 0.1  # the authors' settings
MU_SCALED = 1e4  # the classifier weight that lets the classifier term reach B (see above)
DPSH_LAMBDA = 10.0


def similarity(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    return (labels_a[:, None] == labels_b[None, :]).float()


def pairwise_likelihood(u: torch.Tensor, U: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the similarities S [n, N] given Theta = 1/2 u U^T, per batch row."""
    theta = u @ U.t() / 2
    return (F.softplus(-theta.abs()) + theta.clamp(min=0) - S * theta).sum() / len(u)


def dsdh_u_loss(u, U, S, b, eta: float = ETA) -> torch.Tensor:
    """The part of DSDH that trains the network: likelihood + eta ||b - u||^2 (per batch row)."""
    return pairwise_likelihood(u, U, S) + eta * (b - u).pow(2).sum() / len(u)


def dpsh_loss(u, U, S, lam: float = DPSH_LAMBDA) -> torch.Tensor:
    return pairwise_likelihood(u, U, S) + lam * (u.detach().sign() - u).pow(2).sum() / len(u)


def w_step(B: torch.Tensor, Y: torch.Tensor, mu: float = MU, nu: float = NU) -> torch.Tensor:
    """Ridge regression of the labels on the codes: argmin_W mu ||Y - B W||^2 + nu ||W||^2."""
    K = B.shape[1]
    return torch.linalg.solve(B.t() @ B + (nu / mu) * torch.eye(K, dtype=B.dtype, device=B.device), B.t() @ Y)


def b_step(B: torch.Tensor, U: torch.Tensor, Y: torch.Tensor, W: torch.Tensor, *, mu: float = MU, eta: float = ETA,
           sweeps: int = 3) -> torch.Tensor:
    """Discrete cyclic coordinate descent on mu ||Y - B W||^2 + eta ||B - U||^2 over B in
    {-1, +1}: each bit column in closed form given the others, ``sweeps`` passes."""
    B = B.clone()
    P = Y @ W.t() + (eta / mu) * U  # [N, K]
    K = B.shape[1]
    for _ in range(sweeps):
        for k in range(K):
            rest = torch.arange(K, device=B.device) != k
            column = P[:, k] - B[:, rest] @ (W[rest] @ W[k])
            B[:, k] = torch.where(column >= 0, 1.0, -1.0)
    return B


def b_objective(B, U, Y, W, *, mu: float = MU, nu: float = NU, eta: float = ETA) -> float:
    """The terms of the DSDH objective the B- and W-steps minimise."""
    return float(mu * (Y - B @ W).pow(2).sum() + nu * W.pow(2).sum() + eta * (B - U).pow(2).sum())
