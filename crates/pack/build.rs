//! Link-time settings for `train-pack`: the same as `train`'s.
include!("../train/link_libtorch.rs");

fn main() {
    link_libtorch();
}
