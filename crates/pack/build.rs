//! Link-time settings for `train-pack` (a dependency's build script cannot make them for
//! our binary): an rpath to libtorch, and libtorch_cuda kept with the `cuda` feature.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
    // With --as-needed (the default) the linker drops libtorch_cuda, since no symbol of
    // it is referenced directly, and CUDA then reads as absent at run time.
    if env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
