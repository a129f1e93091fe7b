# A stand-in for `import nixpkgs { system; config; }` with just the attributes xavier's
# flake.nix and nix/libtorch.nix use. Every package is a trivial derivation (never built);
# its inputs become derivation attributes, so evaluating a shell's drvPath forces every
# package the flake names, and a misspelt attribute fails the check. fetchurl keeps url and
# sha256 (as a fixed-output derivation) so tests/flake.sh can assert the pins.
{ system ? "x86_64-linux", config ? { }, ... }:
let
  drvWith = name: inputs: derivation ({ inherit name system; builder = "/bin/sh"; args = [ "-c" "echo stub > $out" ]; } // inputs);
  drv = name: drvWith name { };
  withOutputs = name: drv name // { dev = drv "${name}-dev"; out = drv name; lib = drv "${name}-lib"; };
  lib = {
    optional = cond: x: if cond then [ x ] else [ ];
    optionals = cond: xs: if cond then xs else [ ];
    optionalString = cond: s: if cond then s else "";
    sourceTypes = { binaryNativeCode = "binaryNativeCode"; };
  };
  cudaPackages = builtins.listToAttrs (map (name: { inherit name; value = drv "cuda-${name}"; }) [
    "cuda_cudart"
    "cuda_cupti"
    "cuda_nvrtc"
    "cudnn"
    "libcublas"
    "libcufft"
    "libcufile"
    "libcurand"
    "libcusolver"
    "libcusparse"
    "libcusparse_lt"
    "nccl"
  ]) // { cudaMajorMinorVersion = "13.0"; };
in
assert builtins.isBool (config.allowUnfree or false);
{
  inherit lib config;
  rustc = drv "rustc";
  cargo = drv "cargo";
  clippy = drv "clippy";
  rustfmt = drv "rustfmt";
  just = drv "just";
  pkg-config = drv "pkg-config";
  cmake = drv "cmake";
  nodejs = drv "nodejs";
  unzip = drv "unzip";
  autoPatchelfHook = drv "auto-patchelf-hook";
  autoAddDriverRunpath = drv "auto-add-driver-runpath";
  hdf5 = withOutputs "hdf5";
  cudaPackages_13_0 = cudaPackages;
  stdenv = {
    inherit system;
    cc = { cc = withOutputs "gcc"; };
    mkDerivation = attrs:
      drvWith "${attrs.pname}-${attrs.version}" (removeAttrs attrs [ "passthru" "meta" ])
      // (attrs.passthru or { }) // { passthru = attrs.passthru or { }; }
      // { inherit (attrs) pname version; meta = attrs.meta or { }; };
  };
  fetchurl = { url, sha256 }:
    derivation {
      name = baseNameOf url;
      inherit system url;
      builder = "/bin/sh";
      outputHashMode = "flat";
      outputHashAlgo = "sha256";
      outputHash = sha256;
    } // { inherit url sha256; };
  python3 = {
    withPackages = pick:
      let chosen = pick { h5py = drv "h5py"; numpy = drv "numpy"; };
      in drvWith "python3-env" { packages = chosen; } // { sitePackages = "lib/python3.13/site-packages"; };
  };
  symlinkJoin = { name, paths }: drvWith name { inherit paths; };
  mkShell = attrs: drvWith "xavier-shell" attrs // { env = attrs; };
}
