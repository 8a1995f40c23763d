"""The optimizer as the page's TensorFlow.js runs it: RMSprop with epsilon inside the square root, and decoupled
weight decay after each step."""

import torch

from .network import KERAS_EPSILON


class TfjsRMSprop(torch.optim.Optimizer):
    """RMSprop exactly as the page's TensorFlow.js runs it (Keras' defaults: rho 0.9, no momentum, epsilon 1e-7):
    ms = rho ms + (1 - rho) g^2;  w -= lr g / sqrt(ms + eps). tfjs adds epsilon inside the square root;
    torch.optim.RMSprop(alpha=0.9, eps=1e-7) adds it outside, which makes the steps of weights whose gradients are
    below about 1e-3 far larger than the page's (up to lr x 3.2 instead of lr x g / 3.2e-4)."""

    def __init__(self, params, lr, rho=0.9, eps=KERAS_EPSILON):
        super().__init__(params, {'lr': lr, 'rho': rho, 'eps': eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if 'mean_square' not in state:
                    state['mean_square'] = torch.zeros_like(p)
                ms = state['mean_square']
                ms.mul_(group['rho']).addcmul_(p.grad, p.grad, value=1 - group['rho'])
                p.addcdiv_(p.grad, ms.add(group['eps']).sqrt_(), value=-group['lr'])


def decay_kernels(model, learning_rate, decay):
    """Decoupled weight decay after a step (recipe.ts decayKernels): conv and Linear kernels times 1 - lr x decay."""
    if decay <= 0:
        return
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.mul_(1 - learning_rate * decay)
