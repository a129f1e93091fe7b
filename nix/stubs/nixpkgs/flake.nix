# A stand-in for nixpkgs with just the attributes xavier's flake.nix uses, so that
# `nix flake check --offline --override-input nixpkgs path:./nix/stubs/nixpkgs` proves the
# flake evaluates without network. The package set is default.nix beside this file, which
# is also what `import nixpkgs { ... }` reads.
{
  description = "offline stub of the nixpkgs attributes used by xavier's flake";

  outputs = { self }: {
    legacyPackages = {
      x86_64-linux = import ./default.nix { system = "x86_64-linux"; };
      aarch64-linux = import ./default.nix { system = "aarch64-linux"; };
    };
  };
}
