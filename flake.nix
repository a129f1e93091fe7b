{
  description = "xavier: a content-addressed reproduction of Glorot & Bengio (2010) in Rust";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map
        (system: { name = system; value = f nixpkgs.legacyPackages.${system}; })
        systems);
    in
    {
      devShells = forAllSystems (pkgs:
        let
          # torch provides libtorch for tch; h5py lets the tests read run.h5 as users do.
          python = pkgs.python3.withPackages (ps: [ ps.torch ps.h5py ps.numpy ]);
          # hdf5-sys looks for headers and libraries under one prefix.
          hdf5 = pkgs.symlinkJoin { name = "hdf5-joined"; paths = [ pkgs.hdf5.dev pkgs.hdf5.out ]; };
        in
        {
          default = pkgs.mkShell {
            packages = [
              pkgs.rustc
              pkgs.cargo
              pkgs.clippy
              pkgs.rustfmt
              pkgs.just
              pkgs.pkg-config
              pkgs.cmake
              pkgs.nodejs
              hdf5
              python
            ];
            # tch finds libtorch through the Python torch of this shell.
            LIBTORCH_USE_PYTORCH = "1";
            LIBTORCH = "${python}/${python.sitePackages}/torch";
            # tch 0.24 is generated for libtorch 2.11; nixpkgs' torch may trail it by a
            # minor version, which the bindings tolerate.
            LIBTORCH_BYPASS_VERSION_CHECK = "1";
            HDF5_DIR = "${hdf5}";
            CMAKE = "${pkgs.cmake}/bin/cmake";
          };
        });
    };
}
