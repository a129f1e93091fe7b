// Link-time settings that torch-sys does not make for a binary that uses libtorch (a
// dependency's build script cannot make them for another crate's binary). Included by the
// build scripts of `train` and `train-pack`.

/// An rpath to libtorch, so the binary runs without LD_LIBRARY_PATH; with the `cuda`
/// feature, libtorch_cuda kept in the link.
fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
    // With --as-needed (the default) the linker drops libtorch_cuda, since no symbol of
    // it is referenced directly, and CUDA then reads as absent at run time.
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
