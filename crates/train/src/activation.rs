//! The hidden-layer non-linearities and their slopes, the slope written in terms of the
//! layer's OUTPUT h so that backward needs no stored pre-activations. `spec::Activation`
//! names them; this trait computes them (spec must not know tch).

use spec::Activation;
use tch::Tensor;

pub trait Nonlinearity {
    /// h = f(s), in place on the pre-activation.
    fn apply_(self, s: &mut Tensor);
    /// dCost/ds = dCost/dh * f'(s), from h = f(s).
    fn backward(self, grad_h: &Tensor, h: &Tensor) -> Tensor;
    /// f'(s) from h = f(s).
    fn slope(self, h: &Tensor) -> Tensor;
}

impl Nonlinearity for Activation {
    fn apply_(self, s: &mut Tensor) {
        match self {
            Activation::Sigmoid => _ = s.sigmoid_(),
            Activation::Tanh => _ = s.tanh_(),
            // x / (1 + |x|)
            Activation::Softsign => {
                let denominator = s.abs() + 1.0;
                _ = s.g_div_(&denominator);
            }
            Activation::Relu => _ = s.relu_(),
        }
    }

    /// f'(s) from h: sigmoid h(1-h), tanh 1-h^2, softsign (1-|h|)^2, relu [h>0]. ATen's
    /// fused backward kernels where they exist: on a GPU a step at batch 10 is bound by
    /// kernel launches, not arithmetic.
    fn backward(self, grad_h: &Tensor, h: &Tensor) -> Tensor {
        match self {
            Activation::Sigmoid => Tensor::sigmoid_backward(grad_h, h),
            Activation::Tanh => Tensor::tanh_backward(grad_h, h),
            Activation::Softsign => (h.abs() - 1.0).square() * grad_h,
            Activation::Relu => h.threshold_backward(grad_h, 0.0),
        }
    }

    fn slope(self, h: &Tensor) -> Tensor {
        self.backward(&h.ones_like(), h)
    }
}
