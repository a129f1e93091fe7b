# Hash pins for what flake.nix fetches besides nixpkgs (flake inputs must be literals, so
# the nixpkgs revision lives in flake.nix itself). tests/flake.sh asserts these values.
{
  torch = {
    # tch 0.24 (torch-sys 0.24.0) is generated for exactly this libtorch.
    version = "2.11.0";
    # The default PyPI wheels: CUDA 13.0 builds (`__version__` is 2.11.0+cu130) that also run
    # on CPU. Only torch/lib, torch/include and torch/share are used, so the CPython tag
    # (cp311) does not matter; it is the wheel scripts/setup already caches.
    # x86_64: sha256 checked against the downloaded file (sha256sum) and PyPI's index.
    # aarch64: sha256 as PyPI's index reports it for that file (not downloaded here).
    wheels = {
      x86_64-linux = {
        url = "https://files.pythonhosted.org/packages/8c/8b/d7be22fbec9ffee6cff31a39f8750d4b3a65d349a286cf4aec74c2375662/torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl";
        sha256 = "7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a";
      };
      aarch64-linux = {
        url = "https://files.pythonhosted.org/packages/84/03/acea680005f098f79fd70c1d9d5ccc0cb4296ec2af539a0450108232fc0c/torch-2.11.0-cp311-cp311-manylinux_2_28_aarch64.whl";
        sha256 = "d91aac77f24082809d2c5a93f52a5f085032740a1ebc9252a7b052ef5a4fddc6";
      };
    };
  };
}
