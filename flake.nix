{
  description = "xavier: a content-addressed reproduction of Glorot & Bengio (2010) in Rust";

  # Pinned to one nixpkgs commit, not a branch. 2680ad0c is a master commit of the 26.11
  # development cycle (its lib/.version reads 26.11), i.e. after the 26.05 branch-off, and it
  # has what this flake relies on: Rust >= 1.89 (the workspace's rust-version),
  # cudaPackages_13_0 (the CUDA 13.0 runtimes the cu130 torch wheel was linked against) and
  # the autoPatchelfHook/autoAddDriverRunpath pair that nixpkgs' torch-bin uses.
  # `nix flake lock` records its narHash in flake.lock on the first online evaluation.
  # To move it: change the revision here and in tests/flake.sh, together.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/2680ad0cfc17b68f4b56f5a7788c78040563105c";

  outputs = { self, nixpkgs }:
    let
      pins = import ./nix/pins.nix;
      systems = builtins.attrNames pins.torch.wheels;
      forAllSystems = f: builtins.listToAttrs (map
        (system: {
          name = system;
          value = f system (import nixpkgs {
            inherit system;
            # The CUDA runtimes (cudart and cupti even for CPU: libtorch_cpu.so links them)
            # are under NVIDIA's redistributable EULA, which nixpkgs marks unfree.
            config.allowUnfree = true;
          });
        })
        systems);

      libtorchFor = system: pkgs: cuda: import ./nix/libtorch.nix {
        inherit (pkgs) lib stdenv fetchurl unzip autoPatchelfHook autoAddDriverRunpath;
        cudaPackages = pkgs.cudaPackages_13_0;
        wheel = pins.torch.wheels.${system};
        inherit (pins.torch) version;
        inherit cuda;
      };

      shellFor = pkgs: libtorch:
        let
          # h5py lets the tests read run.h5 as users do; torch itself is not needed in Python.
          python = pkgs.python3.withPackages (ps: [ ps.h5py ps.numpy ]);
        in
        pkgs.mkShell {
          packages = [
            pkgs.rustc
            pkgs.cargo
            pkgs.clippy
            pkgs.rustfmt
            pkgs.just
            pkgs.pkg-config
            pkgs.cmake
            pkgs.nodejs
            python
            libtorch
          ];
          # tch builds against this libtorch; torch-sys checks $LIBTORCH/build-version
          # against the 2.11.0 it was generated for (no LIBTORCH_BYPASS_VERSION_CHECK).
          LIBTORCH = "${libtorch}";
          # HDF5 is the hdf5 crate's static build from source (hdf5-metno-src), never a
          # system HDF5: no HDF5_DIR. It needs only cmake and the C compiler.
          CMAKE = "${pkgs.cmake}/bin/cmake";
          # Tells scripts/setup that libtorch, cmake and h5py come from this shell.
          XAVIER_NIX_SHELL = if libtorch.cuda then "cuda" else "cpu";
          # What scripts/setup and `just build` read: in .#cuda, `just build` adds
          # --features train/cuda (train and train-pack link libtorch_cuda); in the default
          # shell it never does, even on a GPU machine (its libtorch has no CUDA libraries).
          XAVIER_CUDA = if libtorch.cuda then "1" else "0";
        };
    in
    {
      packages = forAllSystems (system: pkgs: {
        libtorch = libtorchFor system pkgs false;
        libtorch-cuda = libtorchFor system pkgs true;
      });

      devShells = forAllSystems (system: pkgs: {
        default = shellFor pkgs self.packages.${system}.libtorch;
        # `nix develop .#cuda`; then `just build` (it adds --features train/cuda).
        # The GPU driver's libcuda.so.1 comes from the host (/run/opengl-driver/lib on NixOS).
        cuda = shellFor pkgs self.packages.${system}.libtorch-cuda;
      });
    };
}
