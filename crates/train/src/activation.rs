//! The hidden-layer non-linearities and their slopes, the slope written in terms of the
//! layer's OUTPUT h so that backward needs no stored pre-activations.

use tch::Tensor;

use crate::config::Activation;

impl Activation {
    /// h = f(s), in place on the pre-activation.
    pub fn apply_(self, s: &mut Tensor) {
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

    /// f'(s) from h = f(s): sigmoid h(1-h), tanh 1-h^2, softsign (1-|h|)^2, relu [h>0].
    pub fn slope(self, h: &Tensor) -> Tensor {
        match self {
            Activation::Sigmoid => h * (-h + 1.0),
            Activation::Tanh => -h.square() + 1.0,
            Activation::Softsign => (-h.abs() + 1.0).square(),
            Activation::Relu => h.gt(0.0).to_kind(h.kind()),
        }
    }

    /// The range an activation histogram covers: the activation's image, or for relu
    /// (unbounded) None, meaning "fix it from the data at step 0".
    pub fn range(self) -> Option<(f64, f64)> {
        match self {
            Activation::Sigmoid => Some((0.0, 1.0)),
            Activation::Tanh | Activation::Softsign => Some((-1.0, 1.0)),
            Activation::Relu => None,
        }
    }
}
