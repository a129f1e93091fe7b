# A stand-in for nixpkgs with just the attributes xavier's flake.nix uses, so that
# `nix flake check --offline --override-input nixpkgs path:./nix/stubs/nixpkgs` proves the
# flake evaluates without network. Every package is a trivial derivation (never built).
{
  description = "offline stub of the nixpkgs attributes used by xavier's flake";

  outputs = { self }:
    let
      stubPackages = system:
        let
          # Inputs become derivation attributes, so evaluating the shell's drvPath forces
          # every package the flake names: a misspelt attribute fails the check.
          drvWith = name: inputs: derivation ({ inherit name system; builder = "/bin/sh"; args = [ "-c" "echo stub > $out" ]; } // inputs);
          drv = name: drvWith name { };
          withOutputs = name: drv name // { dev = drv "${name}-dev"; out = drv name; };
        in
        {
          rustc = drv "rustc";
          cargo = drv "cargo";
          clippy = drv "clippy";
          rustfmt = drv "rustfmt";
          just = drv "just";
          pkg-config = drv "pkg-config";
          cmake = drv "cmake";
          nodejs = drv "nodejs";
          hdf5 = withOutputs "hdf5";
          python3 = {
            withPackages = pick:
              let chosen = pick { torch = drv "torch"; h5py = drv "h5py"; numpy = drv "numpy"; };
              in drvWith "python3-env" { packages = chosen; } // { sitePackages = "lib/python3.12/site-packages"; };
          };
          symlinkJoin = { name, paths }: drvWith name { inherit paths; };
          mkShell = attrs: drvWith "xavier-shell" attrs // { env = attrs; };
        };
    in
    {
      legacyPackages = {
        x86_64-linux = stubPackages "x86_64-linux";
        aarch64-linux = stubPackages "aarch64-linux";
      };
    };
}
